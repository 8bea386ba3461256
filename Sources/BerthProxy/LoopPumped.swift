/// Something a worker runs once before its loop blocks, after events made it
/// owe bytes: an HTTP/2 connection's session output and its streams' events.
protocol LoopPumped: AnyObject {
    var dirty: Bool { get set }
    func pump()
}
