"""nginx and HAProxy route every key as rollout_route does.

For each scheme (nginx, haproxy) and each ramp, sets the ramp in the
database, writes the load balancer's configuration from rollout_lb_config,
starts the real load balancer on a local port, and sends one request per key
with the key in the X-Order-Key header. The load balancer answers with the
name of the backend it chose ("v1" for the base, "v2" for the target); every
answer must be the version rollout_route gives for that key.

    python3 lb_agreement.py DSN WORKDIR PORT

Prints "ok - ..." / "not ok - ..." lines.
"""
import concurrent.futures
import http.client
import os
import random
import subprocess
import sys
import time

import psycopg

from nginx_private import nginx_config
from tap_lines import Checks

RAMPS = ["0.01", "1", "10", "37.5", "50", "99.99", "100", "0"]
NGINX = "/usr/sbin/nginx"
HAPROXY = "/usr/sbin/haproxy"
check = Checks("")


def keys():
    """20,000 distinct keys a header can carry unchanged: no control
    characters, no whitespace at either end (HTTP trims it)."""
    rng = random.Random(42)
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/,;=@!%$'\"()[]{}+*"
    out = {"", "a", "ab", "abc", "abcd", "order-12345", "a b", "x,y", "k;v=1", "quote\"d", "100%"}
    for i in range(6000):
        out.add(f"order-{i}")
    for i in range(3000):
        n = 1 + i % 7  # lengths 1 .. 7: most are not multiples of 4
        out.add("".join(rng.choice(alphabet) for _ in range(n)))
    for i in range(1000):
        out.add(f"commande-été-{i}")
        out.add(f"注文-{i}")
        out.add(f"заказ-{i}")
        out.add(f"🛒{i}")
    for i in range(200):
        out.add("L" * (500 + 17 * i) + str(i))
    while len(out) < 20000:
        n = rng.randint(1, 64)
        s = "".join(rng.choice(alphabet + " é注") for _ in range(n)).strip()
        out.add(s)
    return sorted(out)[:20000]


def ask_all(port, batch):
    """The backend name the load balancer answers for each key, over one
    kept-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    answers = []
    for key in batch:
        conn.putrequest("GET", "/", skip_accept_encoding=True)
        conn.putheader("X-Order-Key", key.encode("utf-8"))
        conn.endheaders()
        resp = conn.getresponse()
        answers.append(resp.read().decode().strip())
        if resp.getheader("Connection", "").lower() == "close":
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.close()
    return answers


def ask(port, key_list):
    chunks = [key_list[i::4] for i in range(4)]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda c: ask_all(port, c), chunks))
    answers = {}
    for chunk, result in zip(chunks, results):
        answers.update(zip(chunk, result))
    return answers


def wait_for_port(port, proc):
    for _ in range(100):
        if proc.poll() is not None:
            return False
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", "/")
            c.getresponse().read()
            c.close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def nginx_conf(workdir, port, snippet):
    return nginx_config(workdir, "nginx", f"""    keepalive_requests 1000000;
{snippet}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            default_type text/plain;
            return 200 $rollout_backend;
        }}
    }}""")


def haproxy_conf(workdir, port, snippet):
    return f"""global
    maxconn 256
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend routes
    bind 127.0.0.1:{port}
{snippet}
backend v1
    http-request return status 200 content-type text/plain string v1
backend v2
    http-request return status 200 content-type text/plain string v2
"""


def start(scheme, workdir, port, snippet):
    path = os.path.join(workdir, f"{scheme}.conf")
    with open(path, "w") as f:
        f.write(nginx_conf(workdir, port, snippet) if scheme == "nginx" else haproxy_conf(workdir, port, snippet))
    cmd = [NGINX, "-p", workdir, "-c", path] if scheme == "nginx" else [HAPROXY, "-db", "-f", path]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(os.path.join(workdir, f"{scheme}.log"), "a"))
    if not wait_for_port(port, proc):
        proc.kill()
        with open(os.path.join(workdir, f"{scheme}.log")) as f:
            raise RuntimeError(f"{scheme} did not start: {f.read()[-2000:]}")
    return proc


def main(dsn, workdir, port):
    key_list = keys()
    check("20,000 distinct keys (ASCII, UTF-8, empty, long, 1 to 7 bytes)",
          len(set(key_list)) == 20000 and "" in key_list and max(map(len, key_list)) > 3000)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TEMP TABLE lb_keys (k text PRIMARY KEY)")
        with conn.cursor().copy("COPY lb_keys (k) FROM STDIN") as copy:
            for k in key_list:
                copy.write_row([k])
        fetch = {"nginx": "$http_x_order_key", "haproxy": "req.fhdr(x-order-key)"}
        for scheme in ("nginx", "haproxy"):
            conn.execute("SELECT rollout_set_ramp('9.4', '10.1', 0, scheme => %s)", [scheme])
            moved_back = 0
            previous = None
            for ramp in RAMPS:
                conn.execute("SELECT rollout_set_ramp('9.4', '10.1', %s)", [ramp])
                snippet = conn.execute("SELECT rollout_lb_config(%s, %s, 'v1', 'v2')",
                                       [scheme, fetch[scheme]]).fetchone()[0]
                expected = dict(conn.execute(
                    "SELECT k, CASE rollout_route(k) WHEN '10.1' THEN 'v2' ELSE 'v1' END FROM lb_keys").fetchall())
                proc = start(scheme, workdir, port, snippet)
                try:
                    answers = ask(port, key_list)
                finally:
                    proc.terminate()
                    proc.wait(timeout=10)
                wrong = [k for k in key_list if answers.get(k) != expected[k]]
                to_target = sum(1 for k in key_list if expected[k] == "v2")
                check(f"{scheme} at {ramp}%: the load balancer chose rollout_route's version for every key "
                      f"({to_target} of 20000 to the target)",
                      not wrong, f"{len(wrong)} differ, e.g. {wrong[:3]!r}: lb {[answers.get(k) for k in wrong[:3]]}")
                if previous is not None and float(ramp) >= float(RAMPS[RAMPS.index(ramp) - 1]):
                    moved_back += sum(1 for k in key_list if previous[k] == "v2" and expected[k] == "v1")
                previous = expected
            check(f"{scheme}: raising the ramp only moved keys from base to target", moved_back == 0,
                  f"{moved_back} keys went back")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
    sys.exit(check.exit_status())
