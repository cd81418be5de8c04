"""A Terraform module registry on 127.0.0.1, for tests: it serves the registry
protocol (service discovery, ``.../VERSION/download`` answering 204 with a relative
``X-Terraform-Get``) over archives given as bytes, and counts every request.

    with ModuleRegistry({("acme", "net", "aws", "1.0.0"): tar_gz_bytes}) as registry:
        tfgen modules lock --registry registry.terraform.io=<registry.url>
"""

from __future__ import annotations

import io
import tarfile
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

Key = tuple[str, str, str, str]  # namespace, name, provider, version


def tar_gz(files: Mapping[str, str | bytes], top: str = "") -> bytes:
    """A .tar.gz of *files* (relative path -> content), under *top*/ when given."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name in sorted(files):
            content = files[name]
            data = content.encode("utf-8") if isinstance(content, str) else content
            info = tarfile.TarInfo(f"{top}/{name}" if top else name)
            info.size = len(data)
            info.mtime = 0
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class ModuleRegistry:
    def __init__(self, packages: Mapping[Key, bytes]) -> None:
        self.packages = dict(packages)
        self.requests: list[str] = []
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                registry.requests.append(self.path)
                parts = self.path.split("?")[0].strip("/").split("/")
                if self.path == "/.well-known/terraform.json":
                    self.reply(200, b'{"modules.v1": "/v1/modules/"}', "application/json")
                elif parts[:2] == ["v1", "modules"] and len(parts) == 7 and parts[6] == "download":
                    key = (parts[2], parts[3], parts[4], parts[5])
                    if key not in registry.packages:
                        self.reply(404, b'{"errors": ["Not Found"]}', "application/json")
                        return
                    self.send_response(204)
                    self.send_header("X-Terraform-Get", f"../../../../../../archives/{'-'.join(key)}.tar.gz")
                    self.end_headers()
                elif parts[0] == "archives" and len(parts) == 2:
                    wanted = parts[1].removesuffix(".tar.gz")
                    for key, data in registry.packages.items():
                        if "-".join(key) == wanted:
                            self.reply(200, data, "application/gzip")
                            return
                    self.reply(404, b"not found", "text/plain")
                else:
                    self.reply(404, b"not found", "text/plain")

            def reply(self, status: int, body: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> ModuleRegistry:
        self.thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def archives_from(directory: Path) -> dict[Key, bytes]:
    """Packages from files named NAMESPACE+NAME+PROVIDER+VERSION.tar.gz in *directory*."""
    found: dict[Key, bytes] = {}
    for path in sorted(directory.glob("*.tar.gz")):
        parts = path.name.removesuffix(".tar.gz").split("+")
        if len(parts) == 4:
            found[(parts[0], parts[1], parts[2], parts[3])] = path.read_bytes()
    return found
