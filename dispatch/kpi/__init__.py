"""Response-time KPIs, computed from recorded incident events only, never typed in."""
