import Testing
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real production shape: Postgres (Debian's packages) as a service with a
/// named volume and a secret, a Python web app (Debian's psycopg2) linked to
/// it behind /web, and a worker writing rows too. The rows survive a
/// blue-green redeploy of web under load, a recreate of db, a SIGKILL of
/// serve, and a volume export, rm and import. The images are built once into
/// a state dir kept between runs (/tmp/berth-pg-state), as the demo's are.
@Suite(.serialized) struct PostgresAppTests {
    static let state = "/tmp/berth-pg-state"

    static let dbDockerfile = """
    FROM debian:bookworm-slim
    RUN apt-get update && apt-get install -y --no-install-recommends postgresql-15 && rm -rf /var/lib/apt/lists/* \\
        && mkdir -p /var/lib/postgresql/data && chown postgres:postgres /var/lib/postgresql/data && chmod 700 /var/lib/postgresql/data
    COPY start.sh /start.sh
    ENV PGDATA=/var/lib/postgresql/data
    USER postgres
    CMD ["/bin/sh", "/start.sh"]
    """

    static let dbStart = """
    set -e
    B=/usr/lib/postgresql/15/bin
    if [ ! -s "$PGDATA/PG_VERSION" ]; then
      $B/initdb -D "$PGDATA" -U app --pwfile=/run/secrets/db-password --auth-host=scram-sha-256 --auth-local=trust >/dev/null
    fi
    exec $B/postgres -D "$PGDATA" -c listen_addresses=127.0.0.1 -c unix_socket_directories=/tmp
    """

    static let webDockerfile = """
    FROM debian:bookworm-slim
    RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-psycopg2 && rm -rf /var/lib/apt/lists/*
    COPY app.py /app.py
    CMD ["python3", "/app.py"]
    """

    static let webApp = """
    import http.server, os, sys, time
    import psycopg2

    def connect():
        password = open("/run/secrets/db-password").read().strip()
        c = psycopg2.connect(host=os.environ["DB_HOST"], port=int(os.environ["DB_PORT"]), user="app",
                             password=password, dbname="postgres", connect_timeout=3)
        c.autocommit = True
        return c

    def run(sql, *args):
        c = connect()
        try:
            cur = c.cursor()
            cur.execute("CREATE TABLE IF NOT EXISTS hits (id serial PRIMARY KEY, src text)")
            cur.execute(sql, args)
            return cur.fetchone() if cur.description else None
        finally:
            c.close()

    class Handler(http.server.BaseHTTPRequestHandler):
        def answer(self, sql, *args):
            try:
                row = run(sql, *args)
                body, status = ("%d %d\\n" % row).encode(), 200
            except Exception as e:
                body, status = ("db: %s\\n" % type(e).__name__).encode(), 503
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def do_GET(self):
            if self.path == "/health":
                return self.answer("SELECT 1, 1")
            self.answer("SELECT count(*), count(*) FILTER (WHERE src = 'worker') FROM hits")
        def do_POST(self):
            self.answer("WITH i AS (INSERT INTO hits (src) VALUES ('web') RETURNING 1) SELECT (SELECT count(*) FROM hits) + 1, 0")
        def log_message(self, *a):
            pass

    if sys.argv[1:] == ["worker"]:
        while True:
            try:
                run("INSERT INTO hits (src) VALUES ('worker')")
            except Exception:
                pass
            time.sleep(0.5)
    http.server.ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
    """

    static func config(work: String, webVersion: Int = 1, dbVersion: Int = 1) -> String {
        """
        listen 127.0.0.1:0
        workers 2
        timeouts {
            start 60s
            drain 2s
        }
        app db {
            build \(work)/db
            port 5432
            env V=\(dbVersion)
            volume pgdata:/var/lib/postgresql/data
            secret db-password \(work)/db-password
            health exec /usr/lib/postgresql/15/bin/pg_isready -h 127.0.0.1 -p 5432 interval 500ms timeout 3s
        }
        app web {
            path /web
            build \(work)/web
            port 8000
            env V=\(webVersion)
            link db
            secret db-password \(work)/db-password
            health GET /health interval 1s
        }
        app jobs {
            build \(work)/web
            command python3 /app.py worker
            link db
            secret db-password \(work)/db-password
        }
        """
    }

    /// "TOTAL WORKER" from GET /web/.
    func counts(_ port: Int) throws -> (Int, Int)? {
        let out = try shell("curl -s --max-time 10 http://127.0.0.1:\(port)/web/").1
        let n = out.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        return n.count == 2 ? (n[0], n[1]) : nil
    }

    func waitForCounts(_ port: Int, atLeast total: Int) throws -> (Int, Int)? {
        for _ in 0..<100 {
            if let c = try counts(port), c.0 >= total { return c }
            usleep(200_000)
        }
        return try counts(port)
    }

    @Test func rowsSurviveRedeploysRecreateAKilledServeAndAVolumeRoundTrip() throws {
        let state = Self.state
        let work = state + "-work"
        for (dir, files) in [("db", ["Dockerfile": Self.dbDockerfile, "start.sh": Self.dbStart]),
                             ("web", ["Dockerfile": Self.webDockerfile, "app.py": Self.webApp])] {
            try FileManager.default.createDirectory(atPath: "\(work)/\(dir)", withIntermediateDirectories: true)
            for (name, text) in files { try text.write(toFile: "\(work)/\(dir)/\(name)", atomically: true, encoding: .utf8) }
        }
        try "s3cret-\(UUID().uuidString)\n".write(toFile: work + "/db-password", atomically: true, encoding: .utf8)
        // A fresh database each run (the images stay cached).
        _ = try runBerth(["volume", "rm", "pgdata", "--state-dir", state])

        var serve = try ServeProcess(config: Self.config(work: work), stateDir: state)
        defer { if serve.process.isRunning { _ = serve.terminate() } }
        print(serve.lines.filter { $0.hasPrefix("[run]") || $0.hasPrefix("[serve]") }.joined(separator: "\n"))
        #expect(serve.startupLines.filter { $0.contains("started 1/1") }.count == 3, "\(serve.startupLines)")
        let port = serve.port
        for _ in 0..<5 { #expect(try shell("curl -s -X POST --max-time 10 http://127.0.0.1:\(port)/web/").0 == 0) }
        let first = try #require(try waitForCounts(port, atLeast: 5))
        #expect(first.0 >= 5)
        // The worker writes through its own link too.
        var worker = 0
        for _ in 0..<50 where worker == 0 { worker = try counts(port)?.1 ?? 0; usleep(200_000) }
        #expect(worker > 0, "the worker wrote no row")

        // Blue-green redeploy of web under load: no failed request.
        try Self.config(work: work, webVersion: 2).write(toFile: serve.configPath, atomically: true, encoding: .utf8)
        let wrk = try Background(["wrk", "-t1", "-c4", "-d6s", "http://127.0.0.1:\(port)/web/"])
        Thread.sleep(forTimeInterval: 1)
        let (r1, said1, err1) = try runBerth(["reload", "--config", serve.configPath, "--state-dir", state])
        #expect(r1 == 0 && said1.contains("web"), "\(said1)\(err1)")
        let load = wrk.finish()
        print(load)
        #expect(!load.contains("Socket errors") && !load.contains("Non-2xx") && load.contains("requests in"), "\(load)")

        // Recreate of db: the old server stops before the new starts; requests
        // in the gap answer 503 (web's connection is refused), then succeed.
        try Self.config(work: work, webVersion: 2, dbVersion: 2).write(toFile: serve.configPath, atomically: true, encoding: .utf8)
        let (r2, said2, err2) = try runBerth(["reload", "--config", serve.configPath, "--state-dir", state])
        #expect(r2 == 0 && said2.contains("db"), "\(said2)\(err2)")
        #expect(serve.lines.contains { $0.contains("db  recreating: stopping version") })
        let afterRecreate = try #require(try waitForCounts(port, atLeast: first.0))
        #expect(afterRecreate.0 >= first.0)

        // SIGKILL of serve, then a new serve: the rows are still there.
        kill(serve.process.processIdentifier, SIGKILL)
        serve.process.waitUntilExit()
        serve = try ServeProcess(config: Self.config(work: work, webVersion: 2, dbVersion: 2), stateDir: state)
        let afterKill = try #require(try waitForCounts(serve.port, atLeast: afterRecreate.0))
        #expect(afterKill.0 >= afterRecreate.0)
        #expect(serve.terminate() == 0)

        // export -> rm -> import, and a new serve reads the same rows.
        let tar = work + "/pgdata.tar"
        #expect(try runBerth(["volume", "export", "pgdata", "-o", tar, "--state-dir", state]).0 == 0)
        #expect(try runBerth(["volume", "rm", "pgdata", "--state-dir", state]).0 == 0)
        #expect(try runBerth(["volume", "import", "pgdata", tar, "--state-dir", state]).0 == 0)
        serve = try ServeProcess(config: Self.config(work: work, webVersion: 2, dbVersion: 2), stateDir: state)
        let restored = try #require(try waitForCounts(serve.port, atLeast: afterKill.0))
        #expect(restored.0 >= afterKill.0)
        #expect(serve.terminate() == 0)
    }
}
