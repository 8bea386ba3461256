/// Whether the control plane still starts things: once serve begins to stop,
/// no replica is started and no reload applied.
enum ControllerLifecycle {
    case serving
    case stopping
}
