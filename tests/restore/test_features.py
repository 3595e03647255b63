"""Feature extractors: the log-mel and frozen SSL encoders (tiny random models, no network).

SSL models are built from config objects and saved to a temporary directory that plays the
role of a hub repo, then loaded through ``SSLFeatures(tmp_dir, layer=...)``.
"""

import copy

import pytest  # noqa: E402
import torch  # noqa: E402
import transformers as tf  # noqa: E402

from fleursr.nn.spectral import MelConfig  # noqa: E402
from fleursr.restore.features import MelFeatures, SSLFeatures, build_features  # noqa: E402

# WavLM's own attention mixes a bool padding mask with a float position bias (torch warns).
pytestmark = pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")

SR = 16000
# Tolerances. Encoder outputs of these tiny models are layer-normed (unit scale); float32
# reductions whose order depends on the padded length (attention softmax over more masked keys,
# matmul blocking) move results by ~1e-6, so 1e-4 absolute leaves two orders of margin while any
# real leak of padding into valid frames moves them by ~1e-2 or more.
ATOL_PAD = 1e-4
# Truncated vs full model on identical inputs: the same kernels run, so only ~1e-6 of noise.
ATOL_TRUNC = 2e-5

COMMON = dict(hidden_size=32, num_hidden_layers=4, num_attention_heads=2, intermediate_size=64)
# The real 7-layer front end's kernels and strides (400-sample receptive field, 320x stride)
# with 16 channels; a small positional convolution.
CONV = dict(
    conv_dim=(16,) * 7,
    conv_kernel=(10, 3, 3, 3, 3, 2, 2),
    conv_stride=(5, 2, 2, 2, 2, 2, 2),
    num_conv_pos_embeddings=16,
    num_conv_pos_embedding_groups=2,
)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models gain nothing from intra-op threads, and on a shared 2-core machine the
    threads' spin-waiting makes each forward ~100x slower; restored after this module."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def wave_extractor(layer_norm=True):
    return tf.Wav2Vec2FeatureExtractor(
        feature_size=1,
        sampling_rate=SR,
        padding_value=0.0,
        do_normalize=True,
        return_attention_mask=layer_norm,
    )


def tiny(kind):
    """``(model, feature_extractor)`` of a tiny randomly initialized architecture."""
    torch.manual_seed(0)
    if kind == "w2v-bert":
        config = tf.Wav2Vec2BertConfig(
            **COMMON, output_hidden_size=32, conv_depthwise_kernel_size=5
        )
        return tf.Wav2Vec2BertModel(config).eval(), tf.SeamlessM4TFeatureExtractor()
    if kind == "w2v-bert-adapter":
        config = tf.Wav2Vec2BertConfig(
            **COMMON,
            output_hidden_size=32,
            conv_depthwise_kernel_size=5,
            add_adapter=True,
            use_intermediate_ffn_before_adapter=True,
        )
        return tf.Wav2Vec2BertModel(config).eval(), tf.SeamlessM4TFeatureExtractor()
    group = kind.endswith("group")
    norm = dict(feat_extract_norm="group" if group else "layer")
    stable = dict(do_stable_layer_norm=kind.endswith("stable"))
    if kind.startswith("wav2vec2-conformer"):
        pos = "rotary" if kind.endswith("rotary") else "relative"
        config = tf.Wav2Vec2ConformerConfig(
            **COMMON, **CONV, **norm, position_embeddings_type=pos, conv_depthwise_kernel_size=5
        )
        model = tf.Wav2Vec2ConformerModel(config)
    elif kind.startswith("wav2vec2"):
        model = tf.Wav2Vec2Model(tf.Wav2Vec2Config(**COMMON, **CONV, **norm, **stable))
    elif kind.startswith("hubert"):
        model = tf.HubertModel(tf.HubertConfig(**COMMON, **CONV, **norm, **stable))
    elif kind.startswith("wavlm"):
        model = tf.WavLMModel(tf.WavLMConfig(**COMMON, **CONV, **norm, **stable))
    elif kind.startswith("data2vec"):
        config = tf.Data2VecAudioConfig(
            **COMMON, **{k: v for k, v in CONV.items() if "pos" not in k}, conv_pos_kernel_size=5
        )
        model = tf.Data2VecAudioModel(config)
    elif kind.startswith("unispeech-sat"):
        model = tf.UniSpeechSatModel(tf.UniSpeechSatConfig(**COMMON, **CONV, **norm, **stable))
    elif kind.startswith("unispeech"):
        model = tf.UniSpeechModel(tf.UniSpeechConfig(**COMMON, **CONV, **norm, **stable))
    else:
        raise KeyError(kind)
    return model.eval(), wave_extractor(layer_norm=not group)


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """Local "hub repos": ``kind -> directory`` with a saved model and feature extractor."""
    dirs = {}
    for kind in ("w2v-bert", "wav2vec2-stable", "wavlm-stable", "hubert-group"):
        path = tmp_path_factory.mktemp(kind)
        model, fe = tiny(kind)
        model.save_pretrained(path)
        fe.save_pretrained(path)
        dirs[kind] = str(path)
    return dirs


def batch(lengths, seed=0):
    """Random speech-like rows zero-padded to the longest: ``(waves, lengths)``."""
    g = torch.Generator().manual_seed(seed)
    waves = torch.zeros(len(lengths), max(lengths))
    for i, n in enumerate(lengths):
        t = torch.arange(n) / SR
        tone = torch.sin(2 * torch.pi * (150 + 40 * i) * t) * (0.3 + 0.2 * torch.sin(3 * t))
        waves[i, :n] = tone + 0.05 * torch.randn(n, generator=g)
    return waves, torch.tensor(lengths)


# -- MelFeatures ----------------------------------------------------------------------------


def test_mel_shapes_lengths_and_zeroed_padding():
    mel = MelFeatures()
    assert (mel.sample_rate, mel.hop_length, mel.dim) == (24000, 256, 100)
    assert mel.frame_rate == 24000 / 256
    waves, lengths = batch([24000, 10000, 3000])
    feats, frames = mel(waves, lengths)
    assert feats.shape == (3, 24000 // 256 + 1, 100) and feats.dtype == torch.float32
    assert frames.tolist() == [mel.num_frames(n) for n in lengths.tolist()] == [94, 40, 12]
    for i, n in enumerate(frames.tolist()):
        assert torch.all(feats[i, n:] == 0)
        assert torch.all(feats[i, :n] != 0)
    assert not list(mel.parameters())


def test_mel_padded_row_matches_single_except_tail():
    mel = MelFeatures()
    waves, lengths = batch([24000, 10000])
    feats, frames = mel(waves, lengths)
    alone, alone_frames = mel(waves[1:, :10000])
    assert alone_frames.tolist() == [frames[1].item()]
    n = int(frames[1])
    tail = mel.mel_config.n_fft // (2 * mel.hop_length) + 1  # frames that see the reflect pad
    torch.testing.assert_close(feats[1, : n - tail], alone[0, : n - tail], atol=1e-5, rtol=1e-5)


def test_mel_config_round_trip():
    mel = MelFeatures(MelConfig(n_mels=40))
    cfg = mel.config()
    assert cfg["kind"] == "mel" and cfg["n_mels"] == 40
    again = build_features(cfg)
    assert isinstance(again, MelFeatures) and again.config() == cfg
    assert build_features({"kind": "mel"}).dim == 100
    with pytest.raises(ValueError, match="unknown feature kind"):
        build_features({"kind": "nope"})


# -- SSLFeatures through a local "hub" directory --------------------------------------------


@pytest.mark.parametrize("kind", ["w2v-bert", "wav2vec2-stable", "wavlm-stable", "hubert-group"])
def test_ssl_loads_from_local_dir(hub, kind):
    ext = SSLFeatures(hub[kind], layer=2)
    assert (ext.sample_rate, ext.hop_length, ext.dim, ext.frame_rate) == (SR, 320, 32, 50.0)
    assert ext.config() == {"kind": "ssl", "model": hub[kind], "layer": 2, "sample_rate": SR}
    assert len(ext.model.encoder.layers) == 2
    waves, lengths = batch([16000, 9000])
    feats, frames = ext(waves, lengths)
    assert feats.shape == (2, ext.num_frames(16000), 32) and feats.dtype == torch.float32
    assert frames.tolist() == [ext.num_frames(16000), ext.num_frames(9000)]
    assert torch.all(feats[1, int(frames[1]) :] == 0)
    assert torch.isfinite(feats).all()
    again = build_features(ext.config())
    torch.testing.assert_close(again(waves, lengths)[0], feats)


@pytest.mark.parametrize("kind", ["w2v-bert", "wav2vec2-stable"])
def test_num_frames_matches_the_full_model(hub, kind):
    ext = SSLFeatures(hub[kind], layer=1)
    model, fe = tiny(kind)
    for n in (ext.min_samples, 719, 720, 1000, 3200, 4799, 4800, 16000, 16321):
        x = batch([n], seed=n)[0]
        feats, frames = ext(x)
        assert feats.shape[1] == frames.item() == ext.num_frames(n) >= 1
        # What the untouched model produces through its own feature extractor.
        ref = fe(x[0].numpy(), sampling_rate=SR, return_tensors="pt")
        with torch.no_grad():
            out = model(**ref).last_hidden_state
        valid = out.shape[1]
        if kind == "w2v-bert":  # an odd fbank frame count is padded to a masked extra frame
            valid = int(ref["attention_mask"].sum())
            assert out.shape[1] - valid in (0, 1)
        assert valid == ext.num_frames(n), n
    assert ext.num_frames(ext.min_samples - 1) == 0


def test_fbank_matches_seamless_feature_extractor():
    model, fe = tiny("w2v-bert")
    ext = SSLFeatures.from_model(model, fe, layer=1)
    waves, lengths = batch([16000, 12345, 5000, 561])
    ref = fe([w[:n].numpy() for w, n in zip(waves, lengths)], sampling_rate=SR, return_tensors="pt")
    inputs, mask, frames = ext.model_inputs(waves, lengths)
    assert frames.tolist() == ref["attention_mask"].sum(1).tolist() == [49, 37, 14, 1]
    assert mask.tolist() == ref["attention_mask"].tolist()
    for i, n in enumerate(frames.tolist()):
        # The reference rounds the FFT to complex64 before |.|^2; we stay in float64. After
        # per-bin normalization (std of a steady signal's log-mel can be ~0.1) that float32
        # rounding shows as ~1e-5, so 1e-4 absolute. The 561-sample row has only two fbank
        # frames: normalizing two nearly equal values amplifies rounding ~10x more.
        atol = 1e-4 if lengths[i] > 1000 else 1e-3
        torch.testing.assert_close(inputs[i, :n], ref["input_features"][i, :n], atol=atol, rtol=0)
        assert torch.all(inputs[i, n:] == 0)


def test_waveform_normalization_matches_wav2vec2_feature_extractor():
    model, fe = tiny("wav2vec2-stable")
    ext = SSLFeatures.from_model(model, fe, layer=1)
    waves, lengths = batch([8000, 5000])
    rows = [w[:n].numpy() for w, n in zip(waves, lengths)]
    ref = fe(rows, sampling_rate=SR, padding=True, return_tensors="pt")
    inputs, mask, _ = ext.model_inputs(waves, lengths)
    torch.testing.assert_close(inputs, ref["input_values"], atol=1e-5, rtol=1e-5)
    assert mask.tolist() == ref["attention_mask"].tolist()
    # A batch without padding needs no mask.
    assert ext.model_inputs(waves[:1])[1] is None


# -- truncation -----------------------------------------------------------------------------

ARCHITECTURES = [
    "w2v-bert",
    "w2v-bert-adapter",
    "wav2vec2-stable",
    "wav2vec2-post",
    "wav2vec2-group",
    "hubert-stable",
    "wavlm-stable",
    "wavlm-post",
    "data2vec",
    "unispeech-sat-stable",
    "unispeech-post",
    "wav2vec2-conformer-relative",
    "wav2vec2-conformer-rotary",
]


@pytest.mark.parametrize("kind", ARCHITECTURES)
def test_truncated_output_is_hidden_states_of_layer(kind):
    model, fe = tiny(kind)
    waves, lengths = batch([6400, 4000])
    for layer in (1, 2, 4):
        ext = SSLFeatures.from_model(copy.deepcopy(model), fe, layer=layer, model_id=kind)
        assert len(ext.model.encoder.layers) == layer
        inputs, mask, frames = ext.model_inputs(waves[:1], lengths[:1])
        key = "input_features" if ext.fbank else "input_values"
        with torch.no_grad():
            full = model(**{key: inputs}, attention_mask=mask, output_hidden_states=True)
        assert len(full.hidden_states) == 5  # embeddings + 4 blocks
        feats, _ = ext(waves[:1], lengths[:1])
        torch.testing.assert_close(feats, full.hidden_states[layer], atol=ATOL_TRUNC, rtol=0)
        if layer < 4:  # really cut: later blocks would change the result
            assert (feats - full.hidden_states[layer + 1]).abs().max() > 1e-3


def test_truncation_drops_post_layer_modules():
    model, fe = tiny("w2v-bert-adapter")
    ext = SSLFeatures.from_model(model, fe, layer=2)
    assert ext.model.adapter is None and ext.model.intermediate_ffn is None
    model, fe = tiny("wav2vec2-stable")
    ext = SSLFeatures.from_model(model, fe, layer=2)
    assert isinstance(ext.model.encoder.layer_norm, torch.nn.Identity)
    model, fe = tiny("wav2vec2-post")  # post-LN encoders normalize *before* the blocks: kept
    ext = SSLFeatures.from_model(model, fe, layer=2)
    assert isinstance(ext.model.encoder.layer_norm, torch.nn.LayerNorm)


# -- padding --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ARCHITECTURES)
def test_padded_batch_matches_each_row_alone(kind):
    model, fe = tiny(kind)
    ext = SSLFeatures.from_model(model, fe, layer=3, model_id=kind)
    waves, lengths = batch([16000, 11111, 4321])
    feats, frames = ext(waves, lengths)
    for i, n in enumerate(lengths.tolist()):
        alone, alone_frames = ext(waves[i : i + 1, :n])
        f = int(frames[i])
        assert alone_frames.item() == f == alone.shape[1]
        torch.testing.assert_close(feats[i, :f], alone[0], atol=ATOL_PAD, rtol=0)
        assert torch.all(feats[i, f:] == 0)


@pytest.mark.parametrize("kind", ARCHITECTURES)
def test_which_encoders_are_padding_invariant(kind):
    """Why some models run row by row: padding changes their own masked batched output."""
    model, fe = tiny(kind)
    ext = SSLFeatures.from_model(model, fe, layer=4, model_id=kind)
    leaks = kind.endswith("group") or kind.startswith(("data2vec", "wav2vec2-conformer"))
    assert ext.padding_invariant is not leaks
    waves, lengths = batch([16000, 6000])
    inputs, mask, frames = ext.model_inputs(waves, lengths)
    with torch.no_grad():
        batched = ext._encode(inputs, mask)[1, : int(frames[1])]
    alone = ext(waves[1:, :6000])[0][0]
    error = (batched - alone).abs().max()
    assert error > 100 * ATOL_PAD if leaks else error < ATOL_PAD


# -- frozen, eval, dtype --------------------------------------------------------------------


def test_frozen_and_always_eval():
    model, fe = tiny("w2v-bert")
    ext = SSLFeatures.from_model(model, fe, layer=2)
    parent = torch.nn.ModuleDict({"features": ext, "head": torch.nn.Linear(32, 4)})
    parent.train()
    assert parent.training and parent["head"].training
    assert not ext.training and not any(m.training for m in ext.modules())
    assert not any(p.requires_grad for p in ext.parameters())
    waves, lengths = batch([8000, 6000])
    feats, _ = ext(waves, lengths)
    assert not feats.requires_grad
    # Deterministic in "train" mode: no dropout, no SpecAugment masking.
    torch.testing.assert_close(ext(waves, lengths)[0], feats, atol=0, rtol=0)
    parent["head"](feats).sum().backward()  # features feed a trainable head fine


def test_bf16_weights_still_give_float32(hub):
    ext = SSLFeatures(hub["wav2vec2-stable"], layer=2, dtype="bfloat16")
    assert next(ext.model.parameters()).dtype == torch.bfloat16
    feats, _ = ext(*batch([8000, 4000]))
    assert feats.dtype == torch.float32 and torch.isfinite(feats).all()


# -- errors ---------------------------------------------------------------------------------


def test_layer_out_of_range_names_model_and_depth(hub):
    for layer in (0, 5, -1):
        with pytest.raises(ValueError, match=r"out of range .*has 4 layers") as err:
            SSLFeatures(hub["w2v-bert"], layer=layer)
        assert hub["w2v-bert"] in str(err.value)
    model, fe = tiny("wav2vec2-stable")
    with pytest.raises(ValueError, match="tiny-w2v, which has 4 layers"):
        SSLFeatures.from_model(model, fe, layer=9, model_id="tiny-w2v")


def test_unsupported_model_type(tmp_path):
    tf.BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2).save_pretrained(
        tmp_path
    )
    with pytest.raises(ValueError, match="'bert' model, not a supported speech encoder"):
        SSLFeatures(str(tmp_path), layer=1)
    bert = tf.BertModel(tf.BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2))
    with pytest.raises(ValueError, match="not a supported speech encoder"):
        SSLFeatures.from_model(bert, wave_extractor(), layer=1)


def test_sample_rate_mismatch(hub):
    with pytest.raises(ValueError, match="expects 16000 Hz audio.*sample_rate=24000"):
        SSLFeatures(hub["w2v-bert"], layer=2, sample_rate=24000)
    with pytest.raises(ValueError, match="expects 16000 Hz"):
        build_features(
            {"kind": "ssl", "model": hub["wav2vec2-stable"], "layer": 2, "sample_rate": 8000}
        )


def test_too_short_input_is_a_clear_error():
    model, fe = tiny("w2v-bert")
    ext = SSLFeatures.from_model(model, fe, layer=1, model_id="tiny")
    assert ext.num_frames(ext.min_samples) == 1 and ext.min_samples == 560
    with pytest.raises(ValueError, match="at least 560 samples"):
        ext(*batch([8000, 300]))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_runs_under_bf16_autocast_and_returns_float32():
    for kind in ("w2v-bert", "wav2vec2-stable"):
        model, fe = tiny(kind)
        ext = SSLFeatures.from_model(model, fe, layer=3)
        waves, lengths = batch([16000, 7000])
        cpu, cpu_frames = ext(waves, lengths)
        gpu, gpu_frames = ext.cuda()(waves.cuda(), lengths)
        assert gpu.dtype == torch.float32 and gpu.device.type == "cuda"
        assert gpu_frames.tolist() == cpu_frames.tolist()
        # bf16 keeps ~3 significant digits; unit-scale features drift by a few 1e-2 at most.
        torch.testing.assert_close(gpu.cpu(), cpu, atol=0.1, rtol=0)
