#!/usr/bin/env python3
"""vve-report.py - the tables and the chart of tests/bench/virtio-vs-emulated.sh.

    tests/bench/vve-report.py [--where TEXT] RESULTS.CSV OUTDIR

Reads the CSV the benchmark wrote (one row per VMM, device, image format and job),
prints the comparison tables and draws OUTDIR/chart.png with gnuplot.
"""
import argparse
import csv
import os
import shutil
import subprocess
import sys

DISK_JOBS = ["seqwrite", "seqread", "randread1", "randread32"]
NET_JOBS = ["tx", "rx", "ping"]
DEVS = ["virtio", "ide", "ide-pio"]
NICS = ["virtio", "e1000"]


def f(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def fmt(x, spec="%.0f"):
    if x is not None and spec == "%.0f" and 0 < abs(x) < 10:
        spec = "%.1f" if abs(x) >= 0.95 else "%.3f"   # 0.1 MiB/s is not 0
    return "-" if x is None else spec % x


def ratio(a, b):
    return None if a is None or b in (None, 0) else a / b


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--where", default="?")
    ap.add_argument("csv")
    ap.add_argument("outdir")
    a = ap.parse_args()
    rows = list(csv.DictReader(open(a.csv)))
    R = {(r["kind"], r["vmm"], r["device"], r["format"], r["job"]): r for r in rows}

    def get(kind, vmm, dev, fm, job):
        return R.get((kind, vmm, dev, fm, job))

    def figure(r, job):
        """the headline figure: MiB/s for sequential jobs, IOPS for random ones"""
        if r is None:
            return None
        return f(r["bw_mib_s"]) if job.startswith("seq") else f(r["iops"])

    def per_op(r, job, col):
        """exits per MiB (sequential) or per request (random)"""
        if r is None or f(r[col]) is None:
            return None
        n = f(r["kib"]) / 1024 if job.startswith("seq") else f(r["ios"])
        return f(r[col]) / n if n else None

    print("virtio versus emulated devices -- %s" % a.where)
    print()
    fmts = [m for m in ("raw", "qcow2") if any(r["format"] == m and r["kind"] == "disk" for r in rows)]
    host = {j: get("disk", "host", "-", "raw", j) for j in DISK_JOBS}
    print("DISK: fio in the guest, O_DIRECT, libaio; seq = 1 MiB blocks QD1 (MiB/s), randN = 4 KiB QD N (IOPS);")
    print("latency: mean and 99th percentile of fio's total latency (submission and completion)")
    hdr = ("%-6s %-10s %-8s %9s %9s %6s %9s | %8s %8s %9s | %9s %9s %9s | %s" %
           ("format", "job", "device", "minivmm", "qemu", "m/q", "qemu-best", "lat us", "p99 us",
            "sys+iow%", "KVM ex/op", "QEMU ex/op", "VMM ex/op",
            "minivmm: KVM exits by reason; VMM exits by device (per op)"))
    print(hdr)
    print("-" * len(hdr))
    for fm in fmts:
        for job in DISK_JOBS:
            for dev in DEVS:
                m, q, b = (get("disk", v, dev, fm, job) for v in ("minivmm", "qemu", "qemu-best"))
                if m is None and q is None:
                    continue
                mf, qf = figure(m, job), figure(q, job)
                by = ""
                if m is not None and per_op(m, job, "kvm_exits") is not None:
                    part = [per_op(m, job, c) for c in ("kvm_io_exits", "kvm_mmio_exits", "kvm_halt_exits")]
                    other = None if None in part else per_op(m, job, "kvm_exits") - sum(part)
                    # "other": page faults (a doorbell KVM hands to an ioeventfd), interrupts...
                    by = "io %s mmio %s hlt %s other %s; " % tuple(fmt(x, "%.1f") for x in part + [other])
                if m is not None and m["vmm_exits_by_device"]:
                    n = f(m["kib"]) / 1024 if job.startswith("seq") else f(m["ios"])
                    parts = sorted((kv.split("=") for kv in m["vmm_exits_by_device"].split()),
                                   key=lambda kv: -int(kv[1]))
                    by += " ".join("%s %.2f" % (k, int(v) / n) for k, v in parts[:3] if n)
                cpu = None
                if m is not None and f(m["cpu_sys_pct"]) is not None:
                    cpu = f(m["cpu_sys_pct"]) + f(m["cpu_iowait_pct"])
                print("%-6s %-10s %-8s %9s %9s %6s %9s | %8s %8s %9s | %9s %9s %9s | %s" % (
                    fm, job, dev, fmt(mf), fmt(qf), fmt(ratio(mf, qf), "%.2f"), fmt(figure(b, job)),
                    fmt(f(m["lat_us"]) if m else None), fmt(f(m["p99_us"]) if m else None), fmt(cpu, "%.1f"),
                    fmt(per_op(m, job, "kvm_exits"), "%.1f"), fmt(per_op(q, job, "kvm_exits"), "%.1f"),
                    fmt(per_op(m, job, "vmm_exits"), "%.2f"), by))
            h = host.get(job)
            if fm == "raw" and h is not None:
                print("%-6s %-10s %-8s %9s  (the host's own fio on the image file: the ceiling)" %
                      (fm, job, "host", fmt(figure(h, job))))
    print()
    print("virtio / emulated, same VMM, same image (throughput or IOPS ratios):")
    print("%-6s %-10s | %-27s | %-27s" % ("format", "job", "minivmm virtio/ide ide/pio", "qemu virtio/ide ide/pio"))
    for fm in fmts:
        for job in DISK_JOBS:
            cells = []
            for v in ("minivmm", "qemu"):
                vi, ide, pio = (figure(get("disk", v, d, fm, job), job) for d in DEVS)
                cells.append("%13s %13s" % (fmt(ratio(vi, ide), "%.2f"), fmt(ratio(ide, pio), "%.2f")))
            print("%-6s %-10s | %s | %s" % (fm, job, cells[0], cells[1]))

    if any(r["kind"] == "net" for r in rows):
        print()
        print("NETWORK: iperf3 %s (Mbit/s), ping -A (us); exits per MiB moved (tx, rx) or per round trip (ping)"
              % "guest->host (tx) and host->guest (rx)")
        hdr = ("%-7s %-5s %9s %9s %6s %9s | %9s %9s | %9s %9s %9s" %
               ("nic", "job", "minivmm", "qemu", "m/q", "qemu-best", "sys+iow%", "p99 us",
                "KVM ex/op", "QEMU ex/op", "VMM ex/op"))
        print(hdr)
        print("-" * len(hdr))
        for nic in NICS:
            for job in NET_JOBS:
                m, q, b = (get("net", v, nic, "-", job) for v in ("minivmm", "qemu", "qemu-best"))
                if m is None and q is None:
                    continue

                def val(r):
                    if r is None:
                        return None
                    return f(r["lat_us"]) if job == "ping" else f(r["bw_mib_s"]) * 1048576 * 8 / 1e6

                def exop(r, col):
                    if r is None or f(r[col]) is None:
                        return None
                    n = 200 if job == "ping" else f(r["kib"]) / 1024
                    return f(r[col]) / n if n else None
                cpu = None
                if m is not None and f(m["cpu_sys_pct"]) is not None:
                    cpu = f(m["cpu_sys_pct"]) + f(m["cpu_iowait_pct"])
                print("%-7s %-5s %9s %9s %6s %9s | %9s %9s | %9s %9s %9s" % (
                    nic, job, fmt(val(m)), fmt(val(q)), fmt(ratio(val(m), val(q)), "%.2f"), fmt(val(b)),
                    fmt(cpu, "%.1f"), fmt(f(m["p99_us"]) if m and job == "ping" else None),
                    fmt(exop(m, "kvm_exits"), "%.1f"), fmt(exop(q, "kvm_exits"), "%.1f"),
                    fmt(exop(m, "vmm_exits"), "%.2f")))
    print()
    print("(m/q: minivmm / QEMU with the same device (for ping, a latency: lower is better);")
    print(" qemu-best: QEMU's virtio with an iothread and")
    print(" aio=native, or vhost=on; KVM ex/op: every exit KVM counted for the VM during the job, also")
    print(" those the kernel handles (ioeventfd, HLT), by reason for minivmm (other: page faults,")
    print(" where a doorbell handed to an ioeventfd counts, interrupts...); VMM ex/op: exits that")
    print(" reached minivmm's process;")
    print(" sys+iow%%: guest CPU time in the kernel and in iowait; results: %s)" % a.csv)
    chart(rows, figure, a.outdir, a.where)


def chart(rows, figure, outdir, where):
    """grouped bars: each disk job as % of the host's ceiling, each NIC in Mbit/s"""
    if not shutil.which("gnuplot"):
        print("(no gnuplot: no chart; apt-get install gnuplot-nox)")
        return
    R = {(r["kind"], r["vmm"], r["device"], r["format"], r["job"]): r for r in rows}
    series = [(v, d) for v in ("minivmm", "qemu") for d in DEVS]
    dat = os.path.join(outdir, "chart-disk.dat")
    with open(dat, "w") as out:
        out.write("job " + " ".join("%s-%s" % s for s in series) + "\n")
        for fm in ("raw", "qcow2"):
            for job in DISK_JOBS:
                h = figure(R.get(("disk", "host", "-", "raw", job)), job)
                vals = []
                for v, d in series:
                    x = figure(R.get(("disk", v, d, fm, job)), job)
                    vals.append("%.1f" % (100 * x / h) if x is not None and h else "NaN")
                if any(x != "NaN" for x in vals):
                    out.write("%s/%s %s\n" % (fm, job, " ".join(vals)))
    ndat = os.path.join(outdir, "chart-net.dat")
    with open(ndat, "w") as out:
        out.write("job minivmm-virtio minivmm-e1000 qemu-virtio qemu-e1000\n")
        for job in ("tx", "rx"):
            vals = []
            for v, d in (("minivmm", "virtio"), ("minivmm", "e1000"), ("qemu", "virtio"), ("qemu", "e1000")):
                r = R.get(("net", v, d, "-", job))
                vals.append("%.1f" % (float(r["bw_mib_s"]) * 8.388608) if r and r["bw_mib_s"] else "NaN")
            out.write("%s %s\n" % (job, " ".join(vals)))
    png = os.path.join(outdir, "chart.png")
    gp = """
set terminal pngcairo size 1400,900 font ',10'
set output '%s'
set multiplot layout 2,1 title 'virtio versus emulated devices (%s)'
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.85 border -1
set key outside right top
set grid ytics
set xtics rotate by -20
set yrange [0:*]
set ylabel '%% of the host fio ceiling'
set title 'disk: fio in the guest (seq MiB/s, rand IOPS), as a share of the host''s own fio'
plot for [i=2:%d] '%s' using i:xtic(1) title columnheader(i)
set ylabel 'Mbit/s'
set title 'network: iperf3 (tx: guest to host, rx: host to guest)'
plot for [i=2:5] '%s' using i:xtic(1) title columnheader(i)
unset multiplot
""" % (png, where.replace("'", ""), len(series) + 1, dat, ndat)
    r = subprocess.run(["gnuplot"], input=gp, text=True, capture_output=True)
    if r.returncode:
        print("(gnuplot failed: %s)" % r.stderr.strip()[:300])
    else:
        print("chart: %s" % png)


if __name__ == "__main__":
    sys.exit(main())
