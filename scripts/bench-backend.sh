# Sourced by the bench scripts: the nginx backend they all proxy to, answering
# "Hello world!" on 127.0.0.1:$1 with keep-alive, its files under $W
# (and /big: $W/www/big, when the caller puts a file there).
#   start_backend PORT [taskset-cpu]   (appends nginx's pid to $pids)
start_backend() {
  mkdir -p "$W/www"
  printf 'Hello world!\n' >"$W/www/index.html"
  cat >"$W/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $W/nginx.pid; error_log $W/nginx.err;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:$1; root $W/www; location = /big { } location / { try_files /index.html =404; } } }
CONF
  if [[ -n "${2:-}" ]]; then taskset -c "$2" /usr/sbin/nginx -c "$W/nginx.conf" & else /usr/sbin/nginx -c "$W/nginx.conf" & fi
  pids+=($!)
}
