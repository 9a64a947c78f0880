"""RoadTwin package loaders."""
