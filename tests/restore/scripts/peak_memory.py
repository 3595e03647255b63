"""Restore N seconds of noise with the tiny Restorer; print seconds, wall time and peak RSS (MB)."""

import resource
import sys
import time

import numpy as np
import torch

from fleursr.restore.config import restorer_config
from fleursr.restore.model import Restorer

if __name__ == "__main__":
    torch.set_num_threads(1)
    seconds = float(sys.argv[1])
    torch.manual_seed(0)
    model = Restorer(restorer_config("tiny").to_dict()).eval()
    model.restore(np.zeros(24000, np.float32), 24000)
    rng = np.random.default_rng(0)
    wave = (0.1 * rng.standard_normal(int(seconds * 24000))).astype(np.float32)
    start = time.time()
    model.restore(wave, 24000)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(seconds, time.time() - start, peak_mb)
