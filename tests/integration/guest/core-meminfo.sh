# core-meminfo: print MemTotal in kB as "GUEST-MEMTOTAL-KB N" for the case to check.
kb=$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)
echo "GUEST-MEMTOTAL-KB $kb"
[ -n "$kb" ]
