#!/usr/bin/python3
"""A Modbus server with known values for tests/es-modbus.bats (pymodbus 3.0).

    modbus_server.py tcp PORT [--delay MS] [--ctl FILE]
    modbus_server.py rtu DEVICE [--delay MS] [--ctl FILE]

Unit 1 holds the datastore below, addresses 0-based (zero_mode). The
values are encoded here with Python's struct, independently of es-modbus's
decoder. --delay MS answers every request MS late (a slow device). --ctl
FILE: a file the test writes "hr ADDRESS VALUE" lines to; they are applied
within 20 ms, the file is removed and "applied EPOCH" is printed (the
live-latency test).
"""
import argparse
import asyncio
import math
import os
import struct
import time

from pymodbus.datastore import (ModbusSequentialDataBlock, ModbusServerContext,
                                ModbusSlaveContext)
from pymodbus.server.async_io import StartAsyncSerialServer, StartAsyncTcpServer
from pymodbus.transaction import ModbusRtuFramer

HR_SIZE = 200


def words(fmt, value, order):
    """value packed big-endian, as registers in ORDER (abcd cdab badc dcba)."""
    b = struct.pack(">" + fmt, value)
    w = [b[i:i + 2] for i in range(0, len(b), 2)]
    if order in ("cdab", "dcba"):
        w.reverse()
    if order in ("badc", "dcba"):
        w = [x[::-1] for x in w]
    return [int.from_bytes(x, "big") for x in w]


def holding():
    hr = [0] * HR_SIZE
    put = [
        (0, words("h", -5, "abcd")),
        (1, words("H", 65000, "abcd")),
        (2, words("i", -123456, "abcd")),
        (4, words("I", 3000000000, "abcd")),
        (6, words("f", 231.4, "abcd")),
        (8, words("f", 231.4, "cdab")),
        (10, words("f", 231.4, "badc")),
        (12, words("f", 231.4, "dcba")),
        (14, words("f", math.nan, "abcd")),
        (16, words("q", -1234567890123, "abcd")),
        (20, words("d", 3.141592653589793, "abcd")),
        (24, words("q", -1234567890123, "cdab")),
        (28, [int.from_bytes(b"ED", "big"), int.from_bytes(b"GE", "big"),
              int.from_bytes(b"12", "big"), 0]),
        (32, [2315]),
        (33, words("i", -2, "cdab")),
        (50, [7]),
        (60, words("h", -1, "badc")),
    ]
    for addr, regs in put:
        hr[addr:addr + len(regs)] = regs
    return hr


def context():
    store = ModbusSlaveContext(
        hr=ModbusSequentialDataBlock(0, holding()),
        ir=ModbusSequentialDataBlock(0, words("I", 123456, "abcd") + [0] * 8),
        co=ModbusSequentialDataBlock(0, [1, 0, 1, 1, 0, 0, 0, 1]),
        di=ModbusSequentialDataBlock(0, [0, 1, 0, 0]),
        zero_mode=True)
    return ModbusServerContext(slaves={1: store}, single=False)


async def watch_ctl(ctx, path):
    while True:
        if path and os.path.exists(path):
            with open(path) as f:
                lines = f.read().split("\n")
            os.remove(path)
            for line in lines:
                if line.strip():
                    table, addr, value = line.split()
                    fc = {"hr": 3, "ir": 4}[table]
                    ctx[1].setValues(fc, int(addr), [int(value)])
                    print("applied %.6f" % time.time(), flush=True)
        await asyncio.sleep(0.02)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=["tcp", "rtu"])
    ap.add_argument("where")
    ap.add_argument("--delay", type=int, default=0)
    ap.add_argument("--ctl")
    a = ap.parse_args()
    ctx = context()
    manip = None
    if a.delay:
        def manip(response):
            time.sleep(a.delay / 1000.0)	# the whole device is slow
            return response, False
    asyncio.create_task(watch_ctl(ctx, a.ctl))
    if a.kind == "tcp":
        await StartAsyncTcpServer(context=ctx, address=("127.0.0.1", int(a.where)),
                                  allow_reuse_address=True,
                                  response_manipulator=manip)
    else:
        server = await StartAsyncSerialServer(
            context=ctx, framer=ModbusRtuFramer, port=a.where, baudrate=19200,
            response_manipulator=manip, defer_start=True)
        await server.start()
        print("ready", flush=True)	# the serial port is open
        await server.serve_forever()


asyncio.run(main())
