/// The version berth reports in `--version` and in `berth_build_info`.
public enum BuildInfo {
    public static let version = "0.1.0"
}
