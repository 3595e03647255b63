"""Publishing a run: the hub layout, the FLEURS layout, the dataset card, the upload."""
