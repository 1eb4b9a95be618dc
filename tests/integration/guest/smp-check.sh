# smp-check: how many CPUs the guest sees, whether a job pinned to each one ran there,
# and what the kernel said about the firmware tables. Prints marker lines for the case
# script (cases/smp-cpus.sh) to judge; exits 0 unless the checks could not run at all.

n=$(nproc)
echo "SMP-NPROC $n"
echo "SMP-CPUINFO $(grep -c '^processor' /proc/cpuinfo)"
echo "SMP-APICIDS $(sed -n 's/^apicid[^0-9]*//p' /proc/cpuinfo | tr '\n' ' ')"

# busy time (user + nice + system) of cpuN from /proc/stat
busy() { awk -v c="cpu$1" '$1 == c { print $2 + $3 + $4 }' /proc/stat; }

# one busy loop pinned to each CPU, all at once
i=0
while [ $i -lt "$n" ]; do
  eval "before_$i=$(busy $i)"
  taskset -c $i sh -c 'k=0; while [ $k -lt 10000 ]; do k=$((k + 1)); done; echo "SMP-WORKER-DONE $(taskset -p $$ | sed "s/.*: //")"' &
  i=$((i + 1))
done
wait
ran=0
i=0
while [ $i -lt "$n" ]; do
  eval "b=\$before_$i"
  a=$(busy $i)
  echo "SMP-CPU$i-TICKS $((a - b))"
  [ $((a - b)) -gt 0 ] && ran=$((ran + 1))
  i=$((i + 1))
done
echo "SMP-RAN $ran"

# firmware-table complaints (ACPI errors and warnings, "firmware bug"), and the lines that show the
# tables were used
dmesg | grep -i -E 'acpi.*(error|warn)|firmware bug' | sed 's/^/ACPI-PROBLEM /'
echo "ACPI-PROBLEMS $(dmesg | grep -c -i -E 'acpi.*(error|warn)|firmware bug')"
dmesg | grep -E 'ACPI: (PM: \(supports|LAPIC_NMI|IOAPIC)|smpboot: Allowing|x86: Booted up' | sed 's/^/ACPI-INFO /'
exit 0
