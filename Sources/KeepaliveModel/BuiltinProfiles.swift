/// The profiles shipped in `profiles/`, compiled into the binary as the last layer of the
/// search path, so the daemon works with nothing installed on disk.
public enum BuiltinProfiles {
    /// The path prefix built-in profiles report as their file.
    public static let directory = "<built-in>"

    /// Every built-in profile, by name.
    public static let all: [ProfileName: SourceText] = {
        let files: [(String, [UInt8])] = [
            ("default", PackageResources.default_conf),
            ("server", PackageResources.server_conf),
            ("web", PackageResources.web_conf),
            ("nat", PackageResources.nat_conf),
        ]
        return Dictionary(uniqueKeysWithValues: files.map { name, bytes in
            (ProfileName(name)!, SourceText(path: "\(directory)/\(name).conf", bytes: bytes))
        })
    }()
}
