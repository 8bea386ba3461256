/// Where a tunnel is in being retired by a redeploy (`timeouts tunnel-drain`).
enum TunnelRetirement {
    /// Not retired: it lasts until either side closes.
    case none
    /// To be closed at its deadline (a random moment in the spread window).
    case scheduled
    /// Its moment passed: the server's current frame goes through, then the close frame.
    case awaitingFrameEnd
}
