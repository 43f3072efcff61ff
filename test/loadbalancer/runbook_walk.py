"""The ramp-up and rollback runbooks of README -> Load balancers, walked with
the load balancer live, writers of both versions running, and the guard on.

Two application servers, V1 (9.4) and V2 (10.1), each a small HTTP server
that writes the order named in the X-Order-Key header with its own version
(SET LOCAL per transaction): the first request inserts the order, which the
routing trigger tags by the ramp, and every later one updates it and adds an
event, which inherits the order's version. The guard on orders refuses a
server older than the row (RV001). nginx routes by the key with the
configuration rollout_lb_config gives; four clients send requests through it
while the runbook steps run:

  ramp-up to p:  reload nginx for p (rollout_lb_config(..., percent => p)),
                 then rollout_set_ramp(p);
  rollback:      rollout_set_ramp(0), CALL rollout_phase_out(V2, V1), reload
                 nginx for 0, then CALL rollout_phase_out(V2, V1) again.

Afterwards: no request was refused with RV001 (nor failed otherwise), both
servers wrote, and no row is left with V2's version, which is retired.

    python3 runbook_walk.py DSN WORKDIR LB_PORT V1_PORT V2_PORT
"""
import http.client
import http.server
import os
import random
import signal
import subprocess
import sys
import threading
import time

import psycopg

from nginx_private import nginx_config
from tap_lines import Checks

check = Checks("runbook: ")


class AppServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port, dsn, version):
        self.dsn, self.version = dsn, version
        self.local = threading.local()
        self.lock = threading.Lock()
        self.counts = {"ok": 0, "RV001": 0, "error": 0}
        self.errors = []
        super().__init__(("127.0.0.1", port), Handler)

    def connection(self):
        if getattr(self.local, "conn", None) is None:
            self.local.conn = psycopg.connect(self.dsn, autocommit=True)
        return self.local.conn

    def count(self, outcome, error=None):
        with self.lock:
            self.counts[outcome] += 1
            if error is not None and len(self.errors) < 5:
                self.errors.append(error)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        server = self.server
        key = self.headers.get("X-Order-Key", "")
        status, body = 200, server.version
        try:
            conn = server.connection()
            with conn.transaction():
                conn.execute("SELECT set_config('rollout.version', %s, true)", [server.version])
                updated = conn.execute("UPDATE orders SET touches = touches + 1 WHERE order_key = %s",
                                       [key]).rowcount
                if updated == 0:
                    conn.execute("INSERT INTO orders (order_key) VALUES (%s) ON CONFLICT DO NOTHING", [key])
                conn.execute("INSERT INTO order_events (order_key, server) VALUES (%s, %s)",
                             [key, server.version])
            server.count("ok")
        except psycopg.Error as e:
            outcome = "RV001" if e.sqlstate == "RV001" else "error"
            server.count(outcome, f"{e.sqlstate}: {e}")
            status, body = 409, outcome
            server.local.conn = None if server.local.conn.broken else server.local.conn
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def nginx_conf(workdir, port, v1, v2, snippet):
    return nginx_config(workdir, "walk-nginx", f"""    upstream v1 {{ server 127.0.0.1:{v1}; keepalive 8; }}
    upstream v2 {{ server 127.0.0.1:{v2}; keepalive 8; }}
{snippet}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://$rollout_backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}""")


class Traffic:
    """Four clients sending requests for a pool of keys through nginx; a
    tenth of the requests create a new order."""

    def __init__(self, port):
        self.port = port
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.statuses = {}
        self.keys = [f"order-{i}" for i in range(200)]
        self.next_key = 200
        self.threads = [threading.Thread(target=self.run, args=(seed,)) for seed in range(4)]

    def key(self, rng):
        with self.lock:
            if rng.random() < 0.1:
                self.keys.append(f"order-{self.next_key}")
                self.next_key += 1
                return self.keys[-1]
            return rng.choice(self.keys)

    def run(self, seed):
        rng = random.Random(seed)
        conn = None
        while not self.stop.is_set():
            key = self.key(rng)
            for _ in range(3):  # a reload closes idle kept-alive connections
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                    conn.request("GET", "/", headers={"X-Order-Key": key})
                    resp = conn.getresponse()
                    body = resp.read().decode()
                    with self.lock:
                        self.statuses[(resp.status, body)] = self.statuses.get((resp.status, body), 0) + 1
                    break
                except (http.client.HTTPException, OSError):
                    conn = None

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join()


def main(dsn, workdir, lb_port, v1_port, v2_port):
    with psycopg.connect(dsn, autocommit=True) as db:
        db.execute("""
            SELECT rollout_register_version('9.4', 'V1'), rollout_register_version('10.1', 'V2');
            CREATE TABLE orders (order_key text PRIMARY KEY, touches integer NOT NULL DEFAULT 0);
            CREATE TABLE order_events (event_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                                       order_key text NOT NULL, server text NOT NULL);
            SELECT rollout_enable_tagging('orders', route_by => 'order_key');
            SELECT rollout_enable_tagging('order_events', inherit_from => 'orders',
                                          inherit_on => '{order_key}', parent_columns => '{order_key}');
            SELECT rollout_enable_guard('orders');
            SELECT rollout_set_ramp('9.4', '10.1', 0, scheme => 'nginx');
        """)
        servers = [AppServer(v1_port, dsn, "9.4"), AppServer(v2_port, dsn, "10.1")]
        for s in servers:
            threading.Thread(target=s.serve_forever, daemon=True).start()
        conf = os.path.join(workdir, "walk-nginx.conf")

        def write_lb(percent):
            snippet = db.execute("SELECT rollout_lb_config('nginx', '$http_x_order_key', 'v1', 'v2', %s)",
                                 [percent]).fetchone()[0]
            with open(conf, "w") as f:
                f.write(nginx_conf(workdir, lb_port, v1_port, v2_port, snippet))

        write_lb(0)
        nginx = subprocess.Popen(["/usr/sbin/nginx", "-p", workdir, "-c", conf],
                                 stderr=open(os.path.join(workdir, "walk-nginx.log"), "w"))

        def reload_lb(percent):
            write_lb(percent)
            nginx.send_signal(signal.SIGHUP)

        time.sleep(0.5)
        try:
            with Traffic(lb_port) as traffic:
                time.sleep(1.5)
                for p in (10, 50):           # ramp-up: the load balancer, then the database
                    reload_lb(p)
                    time.sleep(1.0)
                    db.execute("SELECT rollout_set_ramp('9.4', '10.1', %s)", [p])
                    time.sleep(1.5)
                at_peak = db.execute("SELECT count(*) FROM orders WHERE rollout_version = '10.1'").fetchone()[0]
                # Rollback: the database, the retag, the load balancer, the retag again.
                db.execute("SELECT rollout_set_ramp('9.4', '10.1', 0)")
                time.sleep(1.0)
                db.execute("CALL rollout_phase_out('10.1', '9.4')")
                time.sleep(1.0)
                reload_lb(0)
                time.sleep(1.5)
            state = db.execute("CALL rollout_phase_out('10.1', '9.4')").fetchone()[2]
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)
            for s in servers:
                s.shutdown()
        left = db.execute("""SELECT (SELECT count(*) FROM orders WHERE rollout_version = '10.1'),
                                    (SELECT count(*) FROM order_events WHERE rollout_version = '10.1')""").fetchone()
        events = dict(db.execute("SELECT server, count(*) FROM order_events GROUP BY server").fetchall())

    v1, v2 = servers
    print(f"   .. requests: {traffic.statuses}; V1 server {v1.counts}, V2 server {v2.counts}; "
          f"{at_peak} orders of V2 at 50%", flush=True)
    check("no request refused with RV001 by the guard",
          v1.counts["RV001"] + v2.counts["RV001"] == 0, v1.errors + v2.errors)
    check("no request failed otherwise", v1.counts["error"] + v2.counts["error"] == 0
          and all(status == 200 for status, _ in traffic.statuses), v1.errors + v2.errors)
    check("both versions' servers wrote orders while the ramp was up",
          events.get("9.4", 0) > 0 and events.get("10.1", 0) > 0 and at_peak > 0, (events, at_peak))
    check("after the rollback no order or event is left with V2's version", left == (0, 0), left)
    check("V2 is retired", state == "retired", state)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6]))
    sys.exit(check.exit_status())
