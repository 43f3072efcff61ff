"""An nginx of the tests' own: every file it writes under one work directory,
so that it runs beside (or without) the host's nginx, as any user."""


def nginx_config(workdir, name, http_body):
    """A whole nginx.conf, in the foreground, whose pid file, error log and
    temporary files are workdir/name-*; http_body goes into the http block."""
    return f"""daemon off;
worker_processes 1;
pid {workdir}/{name}.pid;
error_log {workdir}/{name}-error.log;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {workdir}/body;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
{http_body}
}}
"""
