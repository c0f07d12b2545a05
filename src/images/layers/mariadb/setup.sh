# Pre-initialises the data directory every execution starts from (copied to the sandbox's /tmp),
# so a run only starts the server: mariadb-install-db takes seconds, a start a fraction of one.
data=/var/lib/runner-codes/mariadb
mariadb-install-db --no-defaults --datadir="$data" --user=root --auth-root-authentication-method=normal \
  --skip-test-db --innodb-log-file-size=4M --innodb-buffer-pool-size=16M >/dev/null
# A database is a directory: give programs one to work in without a USE statement.
mkdir -p "$data/sandbox"
rm -f "$data"/*.err "$data"/aria_log_control.lock
chmod -R a+rX "$data"
