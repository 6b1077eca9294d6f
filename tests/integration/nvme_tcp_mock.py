# SPDX-License-Identifier: Apache-2.0
"""A deliberately small NVMe/TCP controller in Python, used to test slio-perf's
host side independently of slio-tgt (a second, independent reading of the
NVMe/TCP and NVMe-oF specs). In-memory namespace, one thread per connection.

Exercises host paths slio-tgt may not: several R2Ts per command, H2CData split
by a small MAXH2CDATA, C2HData split into several PDUs, the SUCCESS flag.
"""
import socket
import struct
import threading

DISC_NQN = "nqn.2014-08.org.nvmexpress.discovery"
MAXH2CDATA = 16384
R2T_CHUNK = 65536
C2H_CHUNK = 32768
ICD = 8192
LBS = 512


def crc32c(data, crc=0xFFFFFFFF):
    tab = crc32c.table
    for b in data:
        crc = tab[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


def _table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


crc32c.table = _table()


def digest(data):
    return crc32c(data) ^ 0xFFFFFFFF


class Conn:
    def __init__(self, mock, sock):
        self.m, self.s = mock, sock
        self.hdgst = self.ddgst = False
        self.sqflow_off = False
        self.writes = {}  # cid -> [sqe, buf, received]

    def recvn(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return buf

    def send_pdu(self, ptype, hdr_rest, data=b"", flags=0):
        hlen = 8 + len(hdr_rest)
        hd = 4 if self.hdgst else 0
        dd = 4 if (self.ddgst and data) else 0
        if self.hdgst:
            flags |= 1
        if dd:
            flags |= 2
        pdo = hlen + hd if data else 0
        plen = hlen + hd + len(data) + dd
        hdr = struct.pack("<BBBBI", ptype, flags, hlen, pdo, plen) + hdr_rest
        out = hdr
        if hd:
            out += struct.pack("<I", digest(hdr))
        out += data
        if dd:
            out += struct.pack("<I", digest(data))
        self.s.sendall(out)

    def rsp(self, cid, status=0, result=0):
        cqe = struct.pack("<QHHHH", result, 0, 0, cid, (status << 1) & 0xFFFF)
        self.send_pdu(0x05, cqe)

    def run(self):
        try:
            ch = self.recvn(8)
            rest = self.recvn(120)
            pfv, hpda, dgst, maxr2t = struct.unpack_from("<HBBI", rest, 0)
            assert ch[0] == 0 and ch[2] == 128
            self.s.sendall(struct.pack("<BBBBIHBBI", 1, 0, 128, 0, 128, 0, 0, dgst, MAXH2CDATA)
                           + bytes(112))
            self.hdgst, self.ddgst = bool(dgst & 1), bool(dgst & 2)
            while True:
                self.pdu()
        except (EOFError, ConnectionError, OSError):
            pass
        finally:
            self.s.close()

    def pdu(self):
        ch = self.recvn(8)
        ptype, flags, hlen, pdo, plen = struct.unpack("<BBBBI", ch)
        if ptype == 0x02:  # H2CTermReq: no digests; remember the FES, then close
            rest = self.recvn(min(plen, 24 + 128) - 8)
            self.m.h2c_term_fes = struct.unpack_from("<H", rest, 0)[0]
            raise EOFError
        hd = 4 if self.hdgst else 0
        rest = self.recvn(hlen - 8 + hd)
        hdr = ch + rest[: hlen - 8]
        if hd:
            assert struct.unpack("<I", rest[-4:])[0] == digest(hdr), "header digest"
        data = b""
        if plen > hlen + hd:
            pad = self.recvn(pdo - hlen - hd) if pdo > hlen + hd else b""
            assert not pad.strip(b"\0")
            dd = 4 if flags & 2 else 0
            data = self.recvn(plen - pdo - dd)
            if dd:
                assert struct.unpack("<I", self.recvn(4))[0] == digest(data), "data digest"
        if ptype == 0x04:
            self.capsule(hdr[8:72], data)
        elif ptype == 0x06:
            self.h2c_data(hdr, data)
        else:
            raise EOFError

    def h2c_data(self, hdr, data):
        cccid, ttag, datao, datal = struct.unpack_from("<HHII", hdr, 8)
        w = self.writes[cccid]
        assert datao == w[2] and datal == len(data) and datal <= MAXH2CDATA
        w[1][datao:datao + datal] = data
        w[2] += datal
        if w[2] == len(w[1]):
            del self.writes[cccid]
            self.io_write(w[0], bytes(w[1]))
        elif w[2] % R2T_CHUNK == 0:
            self.r2t(cccid, w[2], len(w[1]))

    def r2t(self, cid, off, total):
        n = min(R2T_CHUNK, total - off)
        self.send_pdu(0x09, struct.pack("<HHIII", cid, 7, off, n, 0))

    def capsule(self, sqe, data):
        opc, _, cid, nsid = struct.unpack_from("<BBHI", sqe, 0)
        sgl_len, sgl_type = struct.unpack_from("<I3xB", sqe, 32)
        cdw = struct.unpack_from("<6I", sqe, 40)
        if opc == 0x7F:
            return self.fabrics(cid, nsid & 0xFF, cdw, data)
        if opc in (0x01,) and sgl_type == 0x5A and sgl_len > len(data):
            self.writes[cid] = [sqe, bytearray(sgl_len), 0]
            return self.r2t(cid, 0, sgl_len)
        if opc == 0x01:
            return self.io_write(sqe, data)
        if opc == 0x02 and self.m.admin_conn is not self:
            slba = cdw[0] | (cdw[1] << 32)
            n = ((cdw[2] & 0xFFFF) + 1) * LBS
            buf = bytes(self.m.ns[slba * LBS: slba * LBS + n])
            return self.c2h(cid, buf)
        if opc == 0x00:
            return self.rsp(cid)
        if opc == 0x06 and (cdw[0] & 0xFF) == 0 and self.m.evil:
            return self.misbehave(cid)
        if opc == 0x06:
            return self.c2h(cid, self.identify(cdw[0] & 0xFF))
        if opc == 0x09:
            return self.rsp(cid, 0, cdw[1])
        if opc == 0x18:
            self.m.keep_alives += 1
            return self.rsp(cid)
        if opc == 0x02:
            return self.c2h(cid, self.disc_log(cdw))
        return self.rsp(cid, 0x01)  # invalid opcode

    def misbehave(self, cid):
        """Malformed controller output for the host's robustness tests (m.evil names it)."""
        evil = self.m.evil
        if evil == "unknown_cid":
            self.send_pdu(0x07, struct.pack("<HHIII", cid + 100, 0, 0, 512, 0), bytes(512), 4)
        elif evil == "data_past_end":
            self.send_pdu(0x07, struct.pack("<HHIII", cid, 0, 4000, 512, 0), bytes(512), 4)
        elif evil == "bad_hdgst":
            self.hdgst, saved = False, self.hdgst
            hdr = struct.pack("<BBBBI", 0x05, 1, 24, 0, 28) + bytes(16)
            self.s.sendall(hdr + b"\xde\xad\xbe\xef")
            self.hdgst = saved
        elif evil == "term":
            self.s.sendall(struct.pack("<BBBBIHI10x", 0x03, 0, 24, 0, 24, 0x06, 0))
        elif evil == "hlen":
            self.s.sendall(struct.pack("<BBBBI", 0x05, 0, 200, 0, 200) + bytes(192))

    def io_write(self, sqe, data):
        cid = struct.unpack_from("<H", sqe, 2)[0]
        cdw = struct.unpack_from("<6I", sqe, 40)
        slba = cdw[0] | (cdw[1] << 32)
        n = ((cdw[2] & 0xFFFF) + 1) * LBS
        assert len(data) == n
        self.m.ns[slba * LBS: slba * LBS + n] = data
        self.rsp(cid)

    def c2h(self, cid, buf):
        for off in range(0, len(buf), C2H_CHUNK):
            chunk = buf[off: off + C2H_CHUNK]
            last = off + len(chunk) == len(buf)
            flags = (4 | (8 if self.sqflow_off else 0)) if last else 0
            self.send_pdu(0x07, struct.pack("<HHIII", cid, 0, off, len(chunk), 0), chunk, flags)
        if not self.sqflow_off:
            self.rsp(cid)

    def fabrics(self, cid, fctype, cdw, data):
        m = self.m
        if fctype == 0x01:
            qid = cdw[0] >> 16
            cattr = (cdw[1] >> 16) & 0xFF
            subnqn = data[256:512].rstrip(b"\0").decode()
            hostnqn = data[512:768].rstrip(b"\0").decode()
            m.connects.append((qid, subnqn, hostnqn))
            if "refused" in hostnqn:
                return self.rsp(cid, 0x184)
            self.sqflow_off = qid > 0 and bool(cattr & 4)
            if qid == 0:
                m.admin_conn = self
                m.kato = cdw[2]
            return self.rsp(cid, 0, 1)
        if fctype == 0x04:
            ofst = cdw[1]
            val = {0x0: (127 | (1 << 24) * 10 | (1 << 37)), 0x8: 0x10400, 0x14: m.cc,
                   0x1C: (1 if m.cc & 1 else 0) | ((2 << 2) if (m.cc >> 14) & 3 else 0)}.get(ofst, 0)
            return self.rsp(cid, 0, val)
        if fctype == 0x00:
            if cdw[1] == 0x14:
                m.cc = cdw[2]
            return self.rsp(cid)
        return self.rsp(cid, 0x02)

    def identify(self, cns):
        b = bytearray(4096)
        if cns == 1:
            struct.pack_into("<20s40s8s", b, 4, b"MOCK0001".ljust(20), b"SLIO mock".ljust(40),
                             b"1.0".ljust(8))
            b[77] = 5  # MDTS: 128 KiB
            struct.pack_into("<I", b, 516, 1)  # NN
            struct.pack_into("<II", b, 1792, (ICD + 64) // 16, 1)  # IOCCSZ, IORCSZ
            b[768:768 + 20] = b"nqn.mock:subsystem1".ljust(20, b"\0")
        elif cns == 0:
            nlb = len(self.m.ns) // LBS
            struct.pack_into("<QQQ", b, 0, nlb, nlb, nlb)
            b[128 + 2] = 9  # lbaf[0].ds
        return bytes(b)

    def disc_log(self, cdw):
        numd = ((cdw[0] >> 16) | ((cdw[1] & 0xFFFF) << 16)) + 1
        off = cdw[2] | (cdw[3] << 32)
        page = bytearray(2048)
        struct.pack_into("<QQH", page, 0, 1, 1, 0)
        e = 1024
        page[e:e + 4] = bytes([3, 1, 2, 0])
        page[e + 32:e + 36] = str(self.m.port).encode()
        page[e + 256:e + 256 + 19] = b"nqn.mock:subsystem1"
        page[e + 512:e + 521] = b"127.0.0.1"
        return bytes(page[off: off + numd * 4])


class MockTarget:
    def __init__(self, size=16 << 20):
        self.ns = bytearray(size)
        self.cc = 0
        self.kato = 0
        self.keep_alives = 0
        self.connects = []
        self.admin_conn = None
        self.evil = None
        self.h2c_term_fes = None
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(16)
        self.port = self.lsock.getsockname()[1]
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                s, _ = self.lsock.accept()
            except OSError:
                return
            c = Conn(self, s)
            self.conns.append(c)
            threading.Thread(target=c.run, daemon=True).start()

    def drop_all(self):
        for c in self.conns:
            try:
                c.s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.lsock.close()
        self.drop_all()
