"""Geography: coordinate systems, the community's areas, and the spatial index of responders.

Pure and synchronous: no database, web framework, phone provider or scheduler is imported here.
"""
