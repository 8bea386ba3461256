import Foundation

/// The chain of saved steps behind an image, as `docker history` shows it:
/// one row per history entry, newest first, each with the layer it added
/// (or none) and an id for the image as of that step.
public struct ImageHistory: Sendable {
    /// The comment berth writes on the history entries of the steps it built.
    public static let builtComment = "berth.dockerfile.v0"

    public struct Row: Sendable, Equatable {
        /// The image as of this step: the image's own id on the top row, a
        /// digest of the layers and steps up to this one on the rows berth
        /// built (the same on a rebuild that reuses the step), nil
        /// (`<missing>`) for steps of a base berth did not build.
        public var id: String?
        public var created: String?
        public var createdBy: String
        /// Bytes of the layer the step added; 0 for a step that adds none.
        public var size: Int
        public var comment: String
        public var emptyLayer: Bool
    }

    public let rows: [Row]

    /// `layerSize(i)`: bytes of the image's i-th layer.
    public init(imageID: String, image: ImageStore.Image, layerSize: (Int) -> Int) {
        let entries = Self.aligned(image.config.history, layers: image.layers.count) ?? []
        var rows: [Row] = []
        var layer = 0
        // What the image is made of up to each step (its steps and layers, not
        // their times): equal prefixes give equal ids.
        var prefix = ""
        for e in entries {
            let empty = e.empty_layer ?? false
            var size = 0
            prefix += "\(e.created_by ?? "")\u{0}\(empty)\u{0}"
            if !empty, layer < image.layers.count {
                size = layerSize(layer)
                prefix += image.layers[layer] + "\u{0}"
                layer += 1
            }
            let built = e.comment == Self.builtComment
            let id: String? = built ? { let h = SHA256(); h.update(prefix); return h.finish() }() : nil
            rows.append(Row(id: id, created: e.created ?? image.created,
                            createdBy: e.created_by ?? "", size: size, comment: e.comment ?? "", emptyLayer: empty))
        }
        if !rows.isEmpty { rows[rows.count - 1].id = imageID }
        self.rows = rows.reversed()
    }

    /// `history` with exactly one non-empty entry per layer, as the OCI spec
    /// requires: layers no entry accounts for (a base pulled without history)
    /// get entries of their own in front; nil when there are more non-empty
    /// entries than layers (the history can't be trusted for any layer).
    public static func aligned(_ history: [ImageConfig.History]?, layers: Int) -> [ImageConfig.History]? {
        let h = history ?? []
        let nonEmpty = h.filter { !($0.empty_layer ?? false) }.count
        if nonEmpty > layers { return nil }
        let missing = [ImageConfig.History](repeating: ImageConfig.History(created_by: ""), count: layers - nonEmpty)
        let out = missing + h
        return out.isEmpty ? nil : out
    }
}
