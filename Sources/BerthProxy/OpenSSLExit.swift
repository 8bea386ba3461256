import CBerthTLS

/// Keeps OpenSSL's global state through `exit()`. serve exits from a drain
/// while threads it does not join (the certificate manager's requests to
/// the CA) may be inside OpenSSL; OpenSSL 3's own atexit cleanup would free
/// what they use under them (serve died of SIGSEGV at SIGTERM in
/// ServeACMETests, three times in seven runs under load). Call it first.
public enum OpenSSLExit {
    public struct Failed: Error, CustomStringConvertible {
        public var description: String { "OpenSSL could not be initialised" }
    }

    public static func keepStateThroughExit() throws {
        guard cberth_tls_keep_state_through_exit() == 1 else { throw Failed() }
    }
}
