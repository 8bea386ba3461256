import Testing
import BerthImage

@Suite struct DockerIgnoreTests {
    @Test func commentsExceptionsAndLastMatchWins() {
        let ig = DockerIgnore("""
        # comment
        *.md
        !README.md
        README-secret.md

        temp?
        /build
        """)
        #expect(ig.excludes("notes.md"))
        #expect(!ig.excludes("README.md"))
        #expect(ig.excludes("README-secret.md"))
        #expect(ig.excludes("temp1"))
        #expect(!ig.excludes("temp12"))
        #expect(ig.excludes("build/out/app"))  // a matched directory takes its contents
        #expect(!ig.excludes("src/notes.md"))  // * does not cross directories
        #expect(!ig.excludes("# comment"))
    }

    @Test func doubleStar() {
        let ig = DockerIgnore("**/*.go\n!cmd/**/main.go\nvendor/**\n")
        #expect(ig.excludes("a.go"))
        #expect(ig.excludes("pkg/x/y.go"))
        #expect(!ig.excludes("cmd/main.go"))
        #expect(!ig.excludes("cmd/tool/main.go"))
        #expect(ig.excludes("vendor/a/b"))
        #expect(!ig.excludes("vendorx"))
    }

    @Test func classesAndCleaning() {
        let ig = DockerIgnore("log[0-9].txt\n./dist/../tmp\n[!a]b\n")
        #expect(ig.excludes("log7.txt"))
        #expect(!ig.excludes("logx.txt"))
        #expect(ig.excludes("tmp/x"))
        #expect(ig.excludes("cb"))
        #expect(!ig.excludes("ab"))
    }
}
