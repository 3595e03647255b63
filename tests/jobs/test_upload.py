"""The upload path against a stand-in for the Hugging Face Hub on loopback (``HF_ENDPOINT``):
just the endpoints ``create_repo`` and ``upload_folder`` call. Files are committed inline
(preupload answers "regular"), so the server sees each file's path and bytes in the commit."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fleursr.jobs.cli.main import main


class HubState:
    def __init__(self) -> None:
        self.repos: dict[str, dict[str, Any]] = {}  # repo id -> {"private", "files"}
        self.requests: list[tuple[str, str, dict[str, str]]] = []  # method, path, headers
        self.unknown: list[str] = []
        self.validated: list[dict[str, Any]] = []


def _handler(state: HubState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _reply(self, code: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def do_GET(self) -> None:  # noqa: N802
            state.requests.append(("GET", self.path, dict(self.headers)))
            state.unknown.append(f"GET {self.path}")
            self._reply(404, {"error": "not implemented"})

        def do_POST(self) -> None:  # noqa: N802
            state.requests.append(("POST", self.path, dict(self.headers)))
            body = self._body()
            parts = self.path.split("?")[0].strip("/").split("/")
            if parts[:2] == ["api", "validate-yaml"]:  # the card's YAML, checked before a commit
                state.validated.append(json.loads(body))
                return self._reply(200, {"errors": [], "warnings": []})
            if parts[:3] == ["api", "repos", "create"]:
                req = json.loads(body)
                repo = f"{req.get('organization') or req.get('namespace', '')}/{req['name']}" \
                    if "/" not in req["name"] else req["name"]  # fmt: skip
                private = req.get("private", req.get("visibility") == "private")
                state.repos.setdefault(repo, {"private": private, "files": {},
                                              "type": req.get("type")})  # fmt: skip
                return self._reply(
                    200, {"url": f"http://{self.headers['Host']}/datasets/{repo}", "name": repo}
                )
            if len(parts) >= 6 and parts[0] == "api" and parts[4] in ("preupload", "commit"):
                repo = f"{parts[2]}/{parts[3]}"
                if repo not in state.repos:
                    return self._reply(404, {"error": "repo not found"})
                if parts[4] == "preupload":
                    files = json.loads(body)["files"]
                    return self._reply(200, {"files": [
                        {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False}
                        for f in files]})  # fmt: skip
                for line in body.decode().splitlines():
                    item = json.loads(line)
                    if item["key"] == "file":
                        value = item["value"]
                        state.repos[repo]["files"][value["path"]] = base64.b64decode(
                            value["content"])  # fmt: skip
                url = f"http://{self.headers['Host']}/datasets/{repo}/commit/{'1' * 40}"
                return self._reply(200, {"commitUrl": url, "commitOid": "1" * 40,
                                         "success": True})  # fmt: skip
            state.unknown.append(f"POST {self.path}")
            self._reply(404, {"error": "not implemented"})

    return Handler


class StandInHub:
    """``with StandInHub() as hub: ... hub.url ... hub.state``"""

    def __enter__(self) -> StandInHub:
        self.state = HubState()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


TOKEN = "hf_loopbackTestToken000000000000000"


def test_publish_uploads_every_file_to_the_dataset_repo(built_run, tmp_path, monkeypatch, capsys):
    import huggingface_hub.constants

    out = tmp_path / "hub"
    # the suite runs offline (tests/conftest.py); this stand-in hub is on loopback
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    with StandInHub() as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.setenv("HF_TOKEN", TOKEN)
        code = main(["publish", str(built_run), "--repo-id", "fleursr/test-r", "--private",
                     "--out", str(out)])  # fmt: skip
        printed = capsys.readouterr()
    assert code == 0, printed.err
    assert hub.state.unknown == []
    assert len(hub.state.validated) == 1  # the card's YAML was checked by the hub
    repo = hub.state.repos["fleursr/test-r"]
    assert repo["private"] is True and repo["type"] == "dataset"
    local = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert repo["files"] == local
    assert "README.md" in repo["files"] and any(k.startswith("data/fr_fr/") for k in repo["files"])
    # the token was sent to the hub, and never printed or written
    assert all(h.get("authorization") == f"Bearer {TOKEN}"
               for _, _, h in hub.state.requests)  # fmt: skip
    assert TOKEN not in printed.out + printed.err
    assert not any(TOKEN.encode() in data for data in local.values())
    assert "uploaded to fleursr/test-r" in printed.out
