"""Test helpers for the CoT gateway: a real TAK client (pytak) driven from a test, and the
test CA (``tests/pki.py``) that issues its certificates."""

from __future__ import annotations

import asyncio
import configparser
import contextlib
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from deconfliction.interop import CotSplitter, parse_event
from deconfliction.interop._cot import CotEvent
from tests.pki import Pki

with warnings.catch_warnings():  # pytak warns that its optional aiohttp is missing
    warnings.simplefilter("ignore")
    import pytak

__all__ = ["Pki", "TakClient", "tak_client"]


class TakClient:
    """pytak's CLITool: ``send`` puts raw event bytes on its TX queue, ``next`` waits for
    an event of a type from its RX queue."""

    def __init__(self, tx: asyncio.Queue[bytes], rx: asyncio.Queue[bytes]) -> None:
        self.tx = tx
        self.rx = rx
        self.seen: list[CotEvent] = []

    async def send(self, data: bytes) -> None:
        await self.tx.put(data)

    async def next(self, type_: str, timeout: float = 15.0, uid_prefix: str = "") -> CotEvent:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for e in self.seen:
                if e.type == type_ and e.uid.startswith(uid_prefix):
                    self.seen.remove(e)
                    return e
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise TimeoutError(
                    f"no {type_} event within {timeout} s: saw {[x.type for x in self.seen]}"
                )
            data = await asyncio.wait_for(self.rx.get(), left)
            for raw in CotSplitter().feed(data):
                self.seen.append(parse_event(raw))


@asynccontextmanager
async def tak_client(url: str, **tls: str) -> AsyncIterator[TakClient]:
    cfg = configparser.ConfigParser()
    cfg["tak"] = {"COT_URL": url, "PYTAK_NO_HELLO": "1", **tls}
    tx: asyncio.Queue[bytes] = asyncio.Queue()
    rx: asyncio.Queue[bytes] = asyncio.Queue()
    tool = pytak.CLITool(cfg["tak"], tx_queue=tx, rx_queue=rx)
    await tool.setup()
    task = asyncio.create_task(tool.run())
    try:
        yield TakClient(tx, rx)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):  # torn down either way
            await task
