import torch

from fleursr.nn import ConformerStack, MelConfig, MelSpectrogram, lengths_to_mask, mel_power


def test_mel_shapes_and_power_scales_with_gain():
    mel = MelSpectrogram(MelConfig())
    wave = 0.1 * torch.randn(2, 24000, generator=torch.Generator().manual_seed(0))
    log_mel = mel(wave)
    assert log_mel.shape == (2, 100, 24000 // 256 + 1)
    ratio = mel_power(mel(3.0 * wave)) / mel_power(log_mel)
    torch.testing.assert_close(ratio, torch.full((2,), 9.0), rtol=1e-4, atol=0)


def test_mel_power_ignores_masked_frames():
    log_mel = torch.zeros(1, 4, 10)
    log_mel[:, :, 6:] = 5.0
    mask = lengths_to_mask(torch.tensor([6]), 10)
    assert mel_power(log_mel, mask).item() == 1.0


def test_conformer_masks_padding_and_matches_unpadded():
    torch.manual_seed(0)
    stack = ConformerStack(32, depth=2, heads=2, kernel_size=7, dropout=0.0).eval()
    x = torch.randn(1, 20, 32)
    padded = torch.cat([x, torch.randn(1, 9, 32)], dim=1)
    mask = lengths_to_mask(torch.tensor([20]), 29)
    alone, batched = stack(x), stack(padded, mask)
    torch.testing.assert_close(batched[:, :20], alone, rtol=1e-4, atol=1e-5)
    assert batched[:, 20:].abs().max() == 0


def test_keep_buffers_sets_glibc_thresholds_where_there_is_glibc():
    import platform

    from fleursr.nn.runtime import keep_buffers

    assert keep_buffers() is (platform.libc_ver()[0] == "glibc")
