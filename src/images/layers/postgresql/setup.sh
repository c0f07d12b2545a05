# Pre-initialises the cluster every execution starts from (copied to the sandbox's /tmp): initdb
# takes seconds, a server start a fraction of one. initdb refuses root, so it runs as the sandbox
# user; the result is then owned by root and only readable, like the rest of the image.
data=/var/lib/runner-codes/postgresql
mkdir -p /tmp/pginit
chown 1000:1000 /tmp/pginit
setpriv --reuid=1000 --regid=1000 --clear-groups \
  /usr/lib/postgresql/15/bin/initdb -D /tmp/pginit/data --wal-segsize=1 -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
mkdir -p "$(dirname "$data")"
mv /tmp/pginit/data "$data"
rm -rf /tmp/pginit
chown -R root:root "$data"
chmod -R a+rX "$data"
