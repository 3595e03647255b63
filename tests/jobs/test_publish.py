"""Publishing: the hub folder loads with ``datasets`` per language config and split, with
decodable 24 kHz audio; the FLEURS layout reads back with the corpus reader."""

from __future__ import annotations

import io

import pytest
import soundfile as sf
import yaml

from fleursr.corpus.manifest import Corpus
from fleursr.corpus.readers.fleurs import read_fleurs
from fleursr.jobs.cli.main import main
from fleursr.jobs.publish.publish import publish


def _expected(run):
    counts: dict = {}
    for u in Corpus(run):
        if u.status == "kept":
            counts.setdefault(u.language, {}).setdefault(u.split, 0)
            counts[u.language][u.split] += 1
    return counts


def test_hub_layout_loads_per_config_and_split(built_run, tmp_path, capsys):
    from datasets import Audio, load_dataset

    out, cache = tmp_path / "hub", str(tmp_path / "cache")
    assert main(["publish", str(built_run), "--repo-id", "fleursr/test-r", "--dry-run",
                 "--out", str(out)]) == 0  # fmt: skip
    assert "dry run: nothing uploaded" in capsys.readouterr().out
    expected = _expected(built_run)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.parquet")) == sorted(
        f"data/{lang}/{split}-00000-of-00001.parquet"
        for lang, splits in expected.items() for split in splits
    )  # fmt: skip
    card = (out / "README.md").read_text()
    meta = yaml.safe_load(card.split("---")[1])
    assert meta["license"] == "cc-by-4.0" and meta["language"] == ["en", "fr"]
    assert [c["config_name"] for c in meta["configs"]] == ["all", "en_us", "fr_fr"]
    assert meta["size_categories"] == ["n<1K"]
    assert "min_duration" in card and "Only kept utterances are published" in card
    for lang, splits in expected.items():
        ds = load_dataset(str(out), lang, cache_dir=cache)
        assert {s: len(d) for s, d in ds.items()} == splits
        for split in splits:
            d = ds[split].cast_column("audio", Audio(decode=False))
            row = d[0]
            wave, sr = sf.read(io.BytesIO(row["audio"]["bytes"]))
            assert sr == 24000 and len(wave) == row["num_samples"] and row["status"] == "kept"
            assert row["language"] == lang and "score_cer_restored" in row
    assert isinstance(
        load_dataset(str(out), "fr_fr", split="train", cache_dir=cache).features["audio"], Audio
    )
    assert sum(len(d) for d in load_dataset(str(out), "all", cache_dir=cache).values()) == sum(
        sum(s.values()) for s in expected.values()
    )


def test_include_dropped_and_fleurs_layout(built_run, tmp_path):
    everything = publish(built_run, "org/all", out=tmp_path / "all", dry_run=True,
                         include_dropped=True)  # fmt: skip
    assert everything.export.rows == len(Corpus(built_run))
    result = publish(built_run, "org/fl", out=tmp_path / "fl", layout="fleurs", dry_run=True)
    expected = _expected(built_run)
    assert result.export.counts == expected
    back = list(read_fleurs(tmp_path / "fl", extract_to=tmp_path / "x", sampling_rate=24000))
    assert len(back) == sum(sum(s.values()) for s in expected.values())
    assert all(u.ok for u in back)
    wave, sr = sf.read(back[0].path)
    assert sr == 24000 and len(wave) == back[0].num_samples
    with pytest.raises(ValueError, match="ORG/NAME"):
        publish(built_run, "no-org", dry_run=True)
