import BerthRouting

/// Where one app is in its life under the control plane. Every change of
/// phase is one of `AppModel`'s transitions; the diagram:
///
///                 start / reload adds it
///     (no app) ─────────────────────────► starting ──build or gate failed──► failed
///                                            │                                  │
///                              first version │ passed its gate       reload ────┘
///                                            ▼                    (tries again: starting)
///          ┌────────── next version passed its gate, routes switched ──────┐
///          ▼          (the old version drains, then stops)                 │
///        live ──reload changed its image or container settings──► redeploying
///          ▲                                                               │
///          └──────── next version failed: rolled back (old keeps serving) ─┘
///
///     any phase ──reload drops it, or serve stops──► stopping (every version drains, then stops)
///
/// Requests: `starting` holds them (up to `timeouts start`), `failed` and
/// `stopping` answer 503, `live` and `redeploying` route to the live version.
enum AppPhase {
    /// The first version is building and starting.
    case starting
    /// No version runs: the last attempt failed to build or pass its gate.
    case failed(reason: String)
    /// One version routed.
    case live(Deployment)
    /// A new version is starting beside the routed one, which keeps serving.
    case redeploying(live: Deployment)
    /// Dropped by a reload, or serve is stopping: nothing is routed.
    case stopping
}
