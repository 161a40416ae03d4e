"""The community: its areas, buildings, households and organisation."""
