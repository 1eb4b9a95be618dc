#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Write the seed corpora tests/fuzz/seeds-NAME/ of the fuzz targets (the
# qcow2 seeds are images, kept as they are). Each seed is a short, valid
# use of the code under test, for the fuzzer to mutate: a driver bringing a
# device up and doing one request (the program format of fuzz_pci.h), a
# well-formed ring, kernel images, command lines, control commands.
# Usage: tests/fuzz/make-seeds.py [BUILD_DIR]  (BUILD_DIR: where the tiny
# guests were built, to take the bzImage and PVH seeds from; default build)
import gzip
import os
import shutil
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, '..', '..', 'build')


def write(target, name, data):
    d = os.path.join(HERE, 'seeds-' + target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


# ---- the hostile driver's program (fuzz_pci.h) ----
LEN = {1: 0, 2: 1, 4: 2, 8: 3}


def cfg_w(off, ln, val):
    return struct.pack('<BHBI', 1, off, LEN[ln], val)


def bar_r(bar, off, ln):
    return struct.pack('<BBIB', 2, bar, off, LEN[ln])


def bar_w(bar, off, ln, val):
    return struct.pack('<BBIBQ', 3, bar, off, LEN[ln], val)


def pio_r(port, ln):
    return struct.pack('<BHB', 4, port, LEN[ln])


def pio_w(port, ln, val):
    return struct.pack('<BHBI', 5, port, LEN[ln], val)


def mem(gpa, data):
    out = b''
    for i in range(0, len(data), 255):
        chunk = data[i:i + 255]
        out += struct.pack('<BIB', 6, gpa + i, len(chunk)) + chunk
    return out


RUN = bytes([7])


def frame(data):
    return struct.pack('<BH', 8, len(data)) + data


ENABLE = cfg_w(4, 2, 7)  # I/O and memory decoding, bus master


# ---- virtio ----
def vio(off, ln, val):  # common configuration in BAR 0
    return bar_w(0, off, ln, val)


def negotiate(lo, hi=1):
    return (vio(0x14, 1, 0) + vio(0x14, 1, 1) + vio(0x14, 1, 3) +
            vio(0x08, 4, 0) + vio(0x0c, 4, lo) + vio(0x08, 4, 1) +
            vio(0x0c, 4, hi) + vio(0x14, 1, 0xb))


def qbase(q):
    return 0x10000 + q * 0x1000


def queue(q, size=8, vector=0xffff):
    b = qbase(q)
    return (vio(0x16, 2, q) + vio(0x18, 2, size) + vio(0x1a, 2, vector) +
            vio(0x20, 4, b) + vio(0x24, 4, 0) + vio(0x28, 4, b + 0x100) +
            vio(0x2c, 4, 0) + vio(0x30, 4, b + 0x200) + vio(0x34, 4, 0) +
            vio(0x1c, 2, 1))


DRIVER_OK = vio(0x14, 1, 0xf)


def desc(addr, ln, flags, nxt):
    return struct.pack('<QIHH', addr, ln, flags, nxt)


NEXT, WRITE, INDIRECT = 1, 2, 4


def chain(q, bufs, head=0, avail_idx=1):
    """Descriptors head.. for bufs [(gpa, len, writable)], posted once."""
    d = b''
    for i, (gpa, ln, w) in enumerate(bufs):
        last = i == len(bufs) - 1
        d += desc(gpa, ln, (0 if last else NEXT) | (WRITE if w else 0),
                  head + i + 1)
    b = qbase(q)
    return (mem(b + 16 * head, d) +
            mem(b + 0x100, struct.pack('<HH', 0, avail_idx) +
                struct.pack('<H', head) * avail_idx))


def kick(q):
    return bar_w(0, 0x3000 + 4 * q, 2, q) + RUN


MSIX = cfg_w(0x42, 2, 0x8000) + bar_w(0, 0x4000, 4, 0xfee00000) + \
    bar_w(0, 0x4008, 4, 0x41) + vio(0x10, 2, 0)

for name, typ, sector in (('read', 0, 0), ('write', 1, 8), ('flush', 4, 0),
                          ('getid', 8, 0), ('discard', 11, 0),
                          ('zeroes', 13, 0), ('bad', 99, 1 << 40)):
    body = struct.pack('<IIQ', typ, 0, sector)
    if typ in (11, 13):
        data = struct.pack('<QII', 4, 8, 0)
        bufs = [(0x20000, 16, False), (0x20100, 16, False), (0x22000, 1, True)]
        body_mem = mem(0x20100, data)
    else:
        bufs = [(0x20000, 16, False), (0x21000, 512, typ in (0, 8)),
                (0x22000, 1, True)]
        body_mem = mem(0x21000, bytes(range(256)) * 2) if typ == 1 else b''
    feats = (1 << 28) | (1 << 29) if name == 'read' else 0
    prog = (ENABLE + negotiate(feats | (1 << 13) | (1 << 14)) + queue(0) +
            queue(1) + (MSIX if name == 'read' else b'') + DRIVER_OK +
            mem(0x20000, body) + body_mem + chain(0, bufs) + kick(0) +
            bar_r(0, 0x1000, 1))
    write('virtio_blk', name, prog)
# the same read through an indirect table
prog = (ENABLE + negotiate(1 << 28) + queue(0) + DRIVER_OK +
        mem(0x20000, struct.pack('<IIQ', 0, 0, 0)) +
        mem(0x23000, desc(0x20000, 16, NEXT, 1) + desc(0x21000, 512, NEXT | WRITE, 2) +
            desc(0x22000, 1, WRITE, 0)) +
        mem(qbase(0), desc(0x23000, 48, INDIRECT, 0)) +
        mem(qbase(0) + 0x100, struct.pack('<HHH', 0, 1, 0)) + kick(0))
write('virtio_blk', 'indirect', prog)

prog = (ENABLE + negotiate(0) + queue(0) + MSIX + DRIVER_OK +
        chain(0, [(0x20000, 64, True), (0x21000, 4096, True)]) + kick(0) +
        bar_r(0, 0x1000, 1) + vio(0x14, 1, 0) + bar_r(0, 0x14, 1))
write('virtio_rng', 'read', prog)
write('virtio_rng', 'bad-chain', ENABLE + negotiate(0) + queue(0) + DRIVER_OK +
      chain(0, [(0x20000, 64, True), (0x21000, 64, False)]) + kick(0))

# virtio-net: RX 0, TX 1, control 2; features MAC, MRG_RXBUF, CTRL_VQ,
# CTRL_RX, CSUM, GUEST_CSUM, HOST_TSO4, CTRL_MAC_ADDR
NET_F = (1 << 0) | (1 << 1) | (1 << 5) | (1 << 11) | (1 << 15) | (1 << 17) | \
    (1 << 18) | (1 << 23)
NET_UP = ENABLE + negotiate(NET_F) + queue(0) + queue(1) + queue(2) + DRIVER_OK
HDR = struct.pack('<BBHHHHH', 0, 0, 0, 0, 0, 0, 0)  # virtio_net_hdr_v1
ETH = bytes([0xff] * 6 + [0x52, 0x54, 0, 1, 2, 3, 0x08, 0x00]) + bytes(46)
TSO_HDR = struct.pack('<BBHHHHH', 1, 1, 54, 1000, 34, 16, 0)
IPV4_TCP = bytes([0x52, 0x54, 0, 9, 9, 9] + [0x52, 0x54, 0, 1, 2, 3, 0x08, 0x00] +
                 [0x45, 0, 0x0b, 0xb8, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2] +
                 [0, 80, 0, 81] + [0] * 8 + [0x50, 0x10, 0xff, 0xff, 0, 0, 0, 0]) + bytes(3000)
write('virtio_net', 'tx', NET_UP + mem(0x20000, HDR + ETH) +
      chain(1, [(0x20000, len(HDR + ETH), False)]) + kick(1))
write('virtio_net', 'tx-tso', NET_UP + mem(0x20000, TSO_HDR + IPV4_TCP) +
      chain(1, [(0x20000, 12, False), (0x2000c, len(IPV4_TCP), False)]) + kick(1))
write('virtio_net', 'rx', NET_UP + chain(0, [(0x30000, 2048, True)]) + kick(0) +
      frame(HDR + ETH) + RUN + bar_r(0, 0x2000, 4))


def ctrl(cls, cmd, data):
    return (mem(0x40000, bytes([cls, cmd])) + mem(0x40100, data) +
            chain(2, [(0x40000, 2, False), (0x40100, len(data), False),
                      (0x40200, 1, True)]) + kick(2))


write('virtio_net', 'ctrl-promisc', NET_UP + ctrl(0, 0, b'\x01'))
write('virtio_net', 'ctrl-mac-table', NET_UP + ctrl(1, 0, struct.pack('<I', 1) +
      bytes([0x52, 0x54, 0, 7, 7, 7]) + struct.pack('<I', 1) +
      bytes([0x01, 0, 0x5e, 0, 0, 1])))
write('virtio_net', 'ctrl-mac-set', NET_UP + ctrl(1, 1, bytes([0x52, 0x54, 0, 8, 8, 8])))
write('virtio_net', 'ctrl-offloads', NET_UP + ctrl(5, 0, struct.pack('<Q', 3)))

# ---- IDE (PIIX3): BAR 4 is the bus-master block ----
ATA = 0x1f0


def ata_cmd(cmd, lba=0, count=1, dev=0xe0, base=ATA):
    return (pio_w(base + 6, 1, dev | (lba >> 24 & 0xf)) + pio_w(base + 2, 1, count) +
            pio_w(base + 3, 1, lba & 0xff) + pio_w(base + 4, 1, lba >> 8 & 0xff) +
            pio_w(base + 5, 1, lba >> 16 & 0xff) + pio_w(base + 7, 1, cmd))


IDE_UP = cfg_w(4, 2, 5) + pio_w(0x3f6, 1, 0)
write('ide', 'identify', IDE_UP + ata_cmd(0xec) + pio_r(ATA + 7, 1) +
      pio_r(ATA, 4) * 128)
write('ide', 'pio-read', IDE_UP + ata_cmd(0x20, 3) + pio_r(ATA, 2) * 256 +
      pio_r(ATA + 7, 1))
write('ide', 'pio-write', IDE_UP + ata_cmd(0x30, 5) + pio_w(ATA, 4, 0x12345678) * 128 +
      pio_r(ATA + 7, 1))
write('ide', 'secondary-slave', IDE_UP + ata_cmd(0xec, dev=0xf0, base=0x170) +
      pio_r(0x170, 2) * 256 + pio_r(0x376, 1))
PRD = struct.pack('<IHH', 0x2000, 512, 0) + struct.pack('<IHH', 0x3000, 512, 0x8000)
write('ide', 'dma-read', IDE_UP + mem(0x1000, PRD) + bar_w(4, 4, 4, 0x1000) +
      ata_cmd(0xc8, 0, 2) + bar_w(4, 0, 1, 9) + bar_r(4, 2, 1) + bar_w(4, 2, 1, 6) +
      bar_w(4, 0, 1, 0))
write('ide', 'dma-write', IDE_UP + mem(0x1000, PRD) + bar_w(4, 4, 4, 0x1000) +
      ata_cmd(0xca, 7, 2) + bar_w(4, 0, 1, 1) + bar_r(4, 2, 1))
write('ide', 'reset', IDE_UP + pio_w(0x3f6, 1, 4) + pio_w(0x3f6, 1, 0) +
      ata_cmd(0x91, count=16) + ata_cmd(0xc6, count=4) + ata_cmd(0xe7))


# the ATAPI CD-ROM is the primary slave: a PACKET command (byte count limit
# in LBA Mid/High), then its 12-byte packet through the data port
def packet(cdb, limit=0x800, feat=0):
    cdb = bytes(cdb).ljust(12, b'\0')
    return (pio_w(ATA + 1, 1, feat) + ata_cmd(0xa0, lba=limit << 8, dev=0xf0) +
            b''.join(pio_w(ATA, 2, cdb[i] | cdb[i + 1] << 8) for i in range(0, 12, 2)))


write('ide', 'atapi-read', IDE_UP + packet([0x28, 0, 0, 0, 0, 2, 0, 0, 2], 0x800) +
      (pio_r(ATA + 7, 1) + pio_r(ATA + 4, 1) + pio_r(ATA, 2) * 1024) * 2 + pio_r(ATA + 7, 1))
write('ide', 'atapi-dma', IDE_UP + mem(0x1000, PRD) + bar_w(4, 4, 4, 0x1000) +
      bar_w(4, 0, 1, 8) + packet([0x12, 0, 0, 0, 96], 0, 1) + bar_w(4, 0, 1, 9) +
      bar_r(4, 2, 1) + pio_r(ATA + 7, 1))
write('ide', 'atapi-sense', IDE_UP + ata_cmd(0xa1, dev=0xf0) + pio_r(ATA, 2) * 256 +
      packet([0xff]) + pio_r(ATA + 1, 1) + packet([0x03, 0, 0, 0, 18], 18) +
      pio_r(ATA, 2) * 9 + packet([0x43, 2, 0, 0, 0, 0, 0, 0, 0xff], 0xfffe) +
      pio_r(ATA, 2) * 10 + packet([0x1b, 0, 0, 0, 2]) + packet([0x00]) +
      packet([0x1b, 0, 0, 0, 3]) + packet([0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8]) + pio_r(ATA, 2) * 4)

# ---- e1000: BAR 0 registers, BAR 1 IOADDR/IODATA ----


def reg(off, val):
    return bar_w(0, off, 4, val)


E1000_UP = (ENABLE + reg(0, 1 << 26) + reg(0xd0, 0x1ffff) +
            reg(0x5400, 0x00015452) + reg(0x5404, 0x80000302))
TX = (reg(0x3800, 0x10000) + reg(0x3804, 0) + reg(0x3808, 128) +
      reg(0x3810, 0) + reg(0x3818, 0) + reg(0x400, 0x0a))


def txd(addr, ln, cmd, extra=0, popts=0, dtyp=None):
    if dtyp is None:  # legacy: length, cso, cmd, status, css, special
        return struct.pack('<QHBBBBH', addr, ln, 0, cmd, 0, 0, 0)
    return struct.pack('<QIBBH', addr, ln | dtyp << 20 | cmd << 24, 0, popts, 0)


write('e1000', 'tx-legacy', E1000_UP + TX + mem(0x20000, ETH) +
      mem(0x10000, txd(0x20000, 60, 0x0b)) + reg(0x3818, 1) + bar_r(0, 0xc0, 4))
ctx = struct.pack('<BBHBBHIBBH', 14, 24, 33, 34, 50, 0, 3000 - 54 | 0x0 << 20 |
                  (0x20 | 0x04 | 0x01 | 0x02) << 24, 0, 54, 1000)
write('e1000', 'tx-tso', E1000_UP + TX + mem(0x20000, IPV4_TCP) +
      mem(0x10000, ctx + txd(0x20000, len(IPV4_TCP), 0x20 | 0x04 | 0x08 | 0x02 | 0x01,
                               popts=3, dtyp=1)) + reg(0x3818, 2))
RX = (reg(0x2800, 0x11000) + reg(0x2804, 0) + reg(0x2808, 128) + reg(0x2810, 0) +
      mem(0x11000, struct.pack('<QQ', 0x30000, 0) + struct.pack('<QQ', 0x31000, 0)) +
      reg(0x2818, 2) + reg(0x100, 0x800a))
write('e1000', 'rx', E1000_UP + RX + frame(HDR + ETH) + RUN + bar_r(0, 0xc0, 4) +
      bar_r(0, 0x2810, 4))
write('e1000', 'eeprom-phy', E1000_UP + reg(0x14, 1) + bar_r(0, 0x14, 4) +
      reg(0x14, 0x3f01) + bar_r(0, 0x14, 4) + reg(0x20, 0x08200000) +
      bar_r(0, 0x20, 4) + bar_w(1, 0, 4, 0x8) + bar_r(1, 4, 4) +
      reg(0xc4, 100) + reg(0xc8, 4) + RUN + bar_r(0, 0x4000, 4))

# ---- the virtqueue walker: size, flags, desc, avail, used, then RAM ----


def vq_seed(size_log2, flags, descs, heads, ram_extra=b''):
    ram = bytearray(0x4000)
    d = b''.join(descs)
    ram[0x1000:0x1000 + len(d)] = d
    avail = struct.pack('<HH', 0, len(heads)) + b''.join(struct.pack('<H', h) for h in heads)
    ram[0x2000:0x2000 + len(avail)] = avail
    ram[0x3800:0x3800 + len(ram_extra)] = ram_extra
    return struct.pack('<BBHHH', size_log2, flags, 0x1000, 0x2000, 0x3000) + bytes(ram)


write('virtqueue', 'two-chains', vq_seed(3, 0, [
    desc(0x100, 16, NEXT, 1), desc(0x200, 32, WRITE, 0),
    desc(0x300, 8, 0, 0)], [0, 2]))
write('virtqueue', 'indirect-event-idx', vq_seed(4, 3, [
    desc(0x3800, 32, INDIRECT, 0)], [0],
    desc(0x100, 16, NEXT, 1) + desc(0x200, 64, WRITE, 0)))
write('virtqueue', 'retry-error', vq_seed(2, 0x18, [
    desc(0x100, 16, 0, 0), desc(0x200, 16, WRITE, 0)], [0, 1, 0]))

# ---- kernels: the tiny guests, and hand-made headers ----
os.makedirs(os.path.join(HERE, 'seeds-boot'), exist_ok=True)
for f in ('hello64.bzimage', 'hello-pvh.elf'):
    p = os.path.join(BUILD, 'guests', f)
    if os.path.exists(p):
        shutil.copy(p, os.path.join(HERE, 'seeds-boot', f))
bz = bytearray(5 * 512 + 4096)
struct.pack_into('<B', bz, 0x1f1, 4)
struct.pack_into('<H', bz, 0x1fe, 0xaa55)
bz[0x202:0x206] = b'HdrS'
struct.pack_into('<H', bz, 0x206, 0x020f)
struct.pack_into('<B', bz, 0x211, 1)
struct.pack_into('<I', bz, 0x22c, 0x7fffffff)
struct.pack_into('<IB', bz, 0x230, 0x200000, 1)
struct.pack_into('<HI', bz, 0x236, 1, 2048)
struct.pack_into('<QI', bz, 0x258, 0x1000000, 0x100000)
write('boot', 'bzimage-2.15', bytes(bz))
# ELF64 with one PT_LOAD and a Xen PHYS32_ENTRY note
note = struct.pack('<III', 4, 4, 18) + b'Xen\0' + struct.pack('<I', 0x100000)
code = b'\xf4' * 64
ehdr = struct.pack('<4sBBBB8sHHIQQQIHHHHHH', b'\x7fELF', 2, 1, 1, 0, bytes(8), 2, 62, 1,
                   0x100000, 64, 0, 0, 64, 56, 2, 0, 0, 0)
off = 64 + 2 * 56
ph_load = struct.pack('<IIQQQQQQ', 1, 5, off, 0x100000, 0x100000, len(code), 0x2000, 16)
ph_note = struct.pack('<IIQQQQQQ', 4, 4, off + len(code), 0, 0, len(note), len(note), 4)
write('boot', 'pvh-elf64', ehdr + ph_load + ph_note + code + note)

# arm64 Images: a current header (text_offset 0, image_size, 4K pages,
# placement anywhere) with a little code, the same gzipped, and an old one
# (image_size 0)
img = bytearray(4096)
img[0:2] = b'MZ'
struct.pack_into('<QQQ', img, 8, 0, 0x200000, 0xa)
img[0x38:0x3c] = b'ARM\x64'
img[64:4096] = bytes((i * 31) & 0xff for i in range(4096 - 64))
write('arm64_boot', 'image', bytes(img))
write('arm64_boot', 'image.gz', gzip.compress(bytes(img), mtime=0))
old = bytearray(img)
struct.pack_into('<QQQ', old, 8, 0x80000, 0, 0)
write('arm64_boot', 'image-old', bytes(old))

# ---- command lines (NUL-separated) and control-socket streams ----
for name, args in (
        ('kernel', ['--kernel', 'k', '--memory', '512M', '--cpus', '2']),
        ('memory', ['--kernel', 'k', '--memory', '512M,hugepages=on', '--memory',
                    '1G,hugepages=off,hugepages=on', '--cpus', '2']),
        ('disks', ['--kernel', 'k', '--disk', 'a.img,format=raw,readonly=on,serial=x',
                   '--disk', 'b.qcow2,format=qcow2,cache=none', '--ide', 'c.img']),
        ('net', ['--kernel', 'k', '--net', 'tap=tap0,bridge=br0,mac=52:54:00:12:34:56',
                 '--net', 'tap=t1,model=e1000', '--rng']),
        ('misc', ['--kernel', 'k', '--initrd', 'i', '--cmdline', 'console=ttyS0',
                  '--on-reboot=restart', '--api-socket', '/tmp/s', '--stats',
                  '--trace']),
        ('bad', ['--memory', '1Z', '--cpus=0', 'extra'])):
    write('cli', name, '\0'.join(args).encode())
write('api', 'commands', b'info\nstats\nregs\npause\nresume\nshutdown\nbogus\r\nstop\n')
write('api', 'long-line', b'pause' * 80 + b'\ninfo')
