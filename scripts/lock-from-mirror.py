#!/usr/bin/env python3
"""Write a project's module lock (catalog/.tfgen-modules.lock.json) from bare git clones
of the module repositories, on a machine that cannot reach the public registry.

Usage (from a tfgen checkout, in its venv):
    .venv/bin/python scripts/lock-from-mirror.py [PROJECT_DIR] --git-mirror DIR [--refresh] [--check-digests]

PROJECT_DIR is the directory of environments.yaml (default: this checkout's reference
project; examples/NAME works the same way). DIR holds the clones as the `fetch` tool
lays them out: DIR/OWNER+terraform-PROVIDER-NAME/repo (or DIR/OWNER+terraform-PROVIDER-NAME),
each with the tag vVERSION or VERSION of every pinned version. The script serves them
as a Terraform module registry on 127.0.0.1 (plain HTTP, the files of the tag as
`git archive` gives them, which is what the public registry's GitHub archive holds, examples/ left out:
the digest skips it and a mirror may lack its large files) and
runs `tfgen modules lock --registry registry.terraform.io=http://127.0.0.1:PORT`, so
the lock is the same as one written with network: digests, variables, outputs and the
required providers of each pinned version. Exit status: that of `tfgen modules lock`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def clone_of(mirror: Path, namespace: str, name: str, provider: str) -> Path | None:
    for candidate in (
        mirror / f"{namespace}+terraform-{provider}-{name}" / "repo",
        mirror / f"{namespace}+terraform-{provider}-{name}",
    ):
        if (candidate / "HEAD").is_file() or (candidate / ".git").exists():
            return candidate
    return None


def archive(clone: Path, version: str) -> bytes | None:
    for tag in (f"v{version}", version):
        found = subprocess.run(
            ["git", "-C", str(clone), "rev-parse", "-q", "--verify", f"refs/tags/{tag}"], capture_output=True, text=True
        )
        if found.returncode == 0:
            return subprocess.run(
                ["git", "-C", str(clone), "archive", "--format=tar.gz", tag, "--", ".", ":(exclude)examples"],
                capture_output=True,
                check=True,
            ).stdout
    return None


def serve(mirror: Path) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def reply(self, status: int, body: bytes, kind: str, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            parts = self.path.split("?")[0].strip("/").split("/")
            if self.path == "/.well-known/terraform.json":
                self.reply(200, b'{"modules.v1": "/v1/modules/"}', "application/json")
            elif parts[:2] == ["v1", "modules"] and len(parts) == 7 and parts[6] == "download":
                location = "/archives/" + "/".join(parts[2:6]) + ".tar.gz"
                self.reply(204, b"", "text/plain", {"X-Terraform-Get": location})
            elif parts[0] == "archives" and len(parts) == 5:
                namespace, name, provider, version = parts[1], parts[2], parts[3], parts[4].removesuffix(".tar.gz")
                clone = clone_of(mirror, namespace, name, provider)
                data = archive(clone, version) if clone else None
                if data is None:
                    print(
                        f"lock-from-mirror: no tag v{version} of {namespace}/{name}/{provider} in {mirror}",
                        file=sys.stderr,
                    )
                    self.reply(404, b"not found", "text/plain")
                else:
                    self.reply(200, data, "application/gzip")
            else:
                self.reply(404, b"not found", "text/plain")

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", nargs="?", default=str(REPO), type=Path)
    parser.add_argument("--git-mirror", required=True, type=Path)
    parser.add_argument("--refresh", action="store_true", help="read every version again")
    args = parser.parse_args()
    server = serve(args.git_mirror.resolve())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        tfgen = Path(sys.executable).parent / "tfgen"
        command = [
            str(tfgen),
            "modules",
            "lock",
            "-c",
            str(args.project / "environments.yaml"),
            "--registry",
            f"registry.terraform.io={url}",
        ]
        if args.refresh:
            command.append("--refresh")
        return subprocess.run(command).returncode
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    sys.exit(main())
