"""Suite-wide settings: the tests never reach the network, whatever order they run in."""

import os

# Read by huggingface_hub, transformers and datasets when they are imported: set before any test
# module imports them. The loopback upload test lifts it for its stand-in hub only.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
