"""The hub's HTTP client: where the hub is, which token to send, problem details → one line.

The base URL and the token come from, in this order (the first one set wins):

1. the flags ``--url`` and ``--token``;
2. the environment variables ``DECONFLICTION_URL`` and ``DECONFLICTION_TOKEN``;
3. the client configuration file, TOML with the keys ``url`` and ``token``:
   ``$DECONFLICTION_CLIENT_CONFIG`` if set, else
   ``$XDG_CONFIG_HOME/deconfliction/client.toml`` (default ``~/.config/...``).

The URL defaults to ``http://127.0.0.1:8000``; there is no default token.

>>> cfg = resolve_config(url="http://hub:8000/", token=None, env={"DECONFLICTION_TOKEN": "t"})
>>> cfg.url, cfg.token, cfg.token_source
('http://hub:8000', 't', 'DECONFLICTION_TOKEN')
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from deconfliction import __version__
from deconfliction.cli._errors import Refused, Unreachable, UsageError

__all__ = ["DEFAULT_URL", "ClientConfig", "HubClient", "client_config_path", "resolve_config"]

DEFAULT_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """Where the hub is and which token to send; ``*_source`` say where each came from."""

    url: str
    token: str | None
    url_source: str = "default"
    token_source: str = "none"  # noqa: S105 -- where the token came from, not a token


def client_config_path(env: Mapping[str, str] | None = None) -> Path:
    """The client configuration file (it need not exist)."""
    env = os.environ if env is None else env
    explicit = env.get("DECONFLICTION_CLIENT_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    base = env.get("XDG_CONFIG_HOME") or str(Path("~/.config").expanduser())
    return Path(base) / "deconfliction" / "client.toml"


def _read_file(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror}") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}") from None
    unknown = sorted(set(doc) - {"url", "token"})
    if unknown:
        raise UsageError(f"{path}: unknown key {unknown[0]!r} (known: url, token)")
    for key, value in doc.items():
        if not isinstance(value, str):
            raise UsageError(f"{path}: {key} must be a string")
    return dict(doc)


def resolve_config(
    *,
    url: str | None,
    token: str | None,
    env: Mapping[str, str] | None = None,
    path: Path | None = None,
) -> ClientConfig:
    """Flags (``url``, ``token``) over the environment over the client configuration file."""
    env = os.environ if env is None else env
    file_path = client_config_path(env) if path is None else path
    file = _read_file(file_path)

    def pick(flag: str | None, var: str, key: str) -> tuple[str | None, str]:
        if flag:
            return flag, f"--{key}"
        if env.get(var):
            return env[var], var
        if file.get(key):
            return file[key], str(file_path)
        return None, "none"

    u, u_src = pick(url, "DECONFLICTION_URL", "url")
    t, t_src = pick(token, "DECONFLICTION_TOKEN", "token")
    if u is None:
        u, u_src = DEFAULT_URL, "default"
    u = u.strip().rstrip("/")
    if not u.startswith(("http://", "https://")):
        raise UsageError(f"url {u!r} (from {u_src}) must start with http:// or https://")
    return ClientConfig(u, t.strip() if t else None, u_src, t_src)


def _reason(exc: httpx.TransportError) -> str:
    text = str(exc) or type(exc).__name__
    low = text.lower()
    if "connection refused" in low or "connect call failed" in low:
        return "connection refused"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if "name or service not known" in low or "nodename nor servname" in low:
        return "unknown host"
    return text


def problem_line(response: httpx.Response) -> str:
    """One line for an error response: ``409 Version conflict: <detail>[: field: reason]``."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return f"{status} {response.reason_phrase or 'error'}"
    title = str(body.get("title") or response.reason_phrase or "error")
    detail = str(body.get("detail") or "")
    parts = [f"{status} {title}"]
    if detail:
        parts.append(detail)
    errors = body.get("errors")
    if isinstance(errors, list):
        extra = []
        for e in errors[:5]:
            if isinstance(e, dict):
                item = f"{e.get('field', '?')}: {e.get('reason', '?')}"
                if item not in detail:
                    extra.append(item)
        if extra:
            parts.append("; ".join(extra))
    return ": ".join(parts).replace("\n", " ")


class HubClient:
    """A thin, synchronous client of the hub's ``/v1`` API."""

    def __init__(
        self,
        config: ClientConfig,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.config = config
        self._http = httpx.Client(
            base_url=config.url,
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": f"deconfliction-cli/{__version__}"},
        )

    def __enter__(self) -> HubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _auth(self) -> dict[str, str]:
        if not self.config.token:
            raise UsageError(
                'no token: pass --token, set DECONFLICTION_TOKEN, or put token = "..." in '
                f"{client_config_path()}"
            )
        return {"Authorization": f"Bearer {self.config.token}"}

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: bool = True,
    ) -> httpx.Response:
        """Send a request; raise :class:`Refused` on an error answer, :class:`Unreachable`
        when there is none."""
        h = dict(headers or {})
        if auth:
            h |= self._auth()
        try:
            r = self._http.request(method, path, json=json, params=params, headers=h)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise UsageError(f"invalid url {self.config.url!r}: {exc}") from None
        except httpx.TransportError as exc:
            raise Unreachable(f"cannot reach {self.config.url}: {_reason(exc)}") from None
        if r.status_code >= 400:
            raise Refused(problem_line(r), r.status_code)
        return r

    def get(self, path: str, **params: Any) -> Any:
        """GET ``path`` and return its JSON (None-valued params are left out)."""
        p = {k: v for k, v in params.items() if v is not None}
        return self.request("GET", path, params=p).json()

    def get_bytes(self, path: str, **params: Any) -> bytes:
        """GET ``path`` and return its body as bytes (e.g. a ledger bundle)."""
        p = {k: v for k, v in params.items() if v is not None}
        return self.request("GET", path, params=p).content

    def post(self, path: str, body: Any = None, *, headers: Mapping[str, str] | None = None) -> Any:
        return self.request("POST", path, json=body, headers=headers).json()

    def put(self, path: str, body: Any, *, headers: Mapping[str, str] | None = None) -> Any:
        return self.request("PUT", path, json=body, headers=headers).json()

    def delete(self, path: str, *, headers: Mapping[str, str] | None = None) -> Any:
        return self.request("DELETE", path, headers=headers).json()

    def version_of(self, path: str) -> int:
        """The current version of the object at ``path`` (its ETag), for If-Match."""
        r = self.request("GET", path)
        etag = r.headers.get("ETag", "").removeprefix("W/").strip('"')
        if etag.isdigit():
            return int(etag)
        body = r.json()
        return int(body["version"])

    def party_names(self) -> dict[str, str]:
        """Party id → name, from the shared directory."""
        return {p["id"]: p["name"] for p in self.get("/v1/parties")}

    def party_id(self, id_or_name: str) -> str:
        """A party's id from its id or its name (case-insensitive)."""
        parties = self.get("/v1/parties")
        for p in parties:
            if p["id"] == id_or_name.lower():
                return str(p["id"])
        matches = [p for p in parties if p["name"].casefold() == id_or_name.casefold()]
        if not matches:
            raise UsageError(f"no party with the id or name {id_or_name!r}")
        return str(matches[0]["id"])
