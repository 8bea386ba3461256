import Testing
import BerthImage

@Suite struct DockerfileParserTests {
    @Test func heredocsAttachToRunCopyAdd() throws {
        let df = try DockerfileParser.parse("""
        FROM scratch
        RUN <<EOF
        echo hello
        echo world
        EOF
        COPY <<-"END" /etc/motd
        \tline one
        \tEND
        RUN ["echo", "<<NOTHEREDOC"]
        CMD ["x"]

        """)
        #expect(df.instructions.map(\.name) == ["from", "run", "copy", "run", "cmd"])
        let run = df.instructions[1]
        #expect(run.heredocs == [Heredoc(name: "EOF", content: "echo hello\necho world\n", chomp: false, expand: true)])
        #expect(run.startLine == 2 && run.endLine == 5)
        let copy = df.instructions[2]
        #expect(copy.heredocs == [Heredoc(name: "END", content: "line one\n", chomp: true, expand: false)])
        #expect(copy.strings == ["<<-\"END\"", "/etc/motd"])
        #expect(df.instructions[3].heredocs.isEmpty)  // exec form: no heredocs
    }

    @Test func unterminatedHeredocFails() {
        #expect(throws: DockerfileError.self) { _ = try DockerfileParser.parse("FROM a\nRUN <<EOF\necho\n") }
    }

    @Test func escapeDirectiveAndContinuations() throws {
        let df = try DockerfileParser.parse("# escape=`\n# syntax=docker/dockerfile:1\nFROM windows\nRUN dir `\n  c:\\\n")
        #expect(df.escape == "`")
        #expect(df.syntax == "docker/dockerfile:1")
        #expect(df.instructions[1].strings == ["dir   c:\\"])
        // A directive after an instruction is just a comment.
        let late = try DockerfileParser.parse("FROM a\n# escape=`\nRUN a \\\n b\n")
        #expect(late.escape == "\\")
        #expect(late.instructions[1].strings == ["a  b"])
        #expect(throws: DockerfileError.self) { _ = try DockerfileParser.parse("# escape=x\nFROM a\n") }
    }

    @Test func commentsAndEmptyLinesInsideContinuations() throws {
        let df = try DockerfileParser.parse("FROM a\nRUN one \\\n# a comment\n\n  two\n")
        #expect(df.instructions[1].strings == ["one   two"])
        #expect(df.instructions[1].endLine == 5)
        #expect(!df.warnings.isEmpty)
    }

    @Test func jsonAndShellForms() throws {
        let df = try DockerfileParser.parse("FROM a\nCMD [\"a\", \"b c\"]\nCMD ['a']\nENTRYPOINT [\"\\u00e9\"]\nHEALTHCHECK --interval=5s CMD [\"curl\", \"-f\", \"x\"]\n")
        #expect(df.instructions[1].isJSON && df.instructions[1].strings == ["a", "b c"])
        #expect(!df.instructions[2].isJSON && df.instructions[2].strings == ["['a']"])
        #expect(df.instructions[3].strings == ["é"])
        #expect(df.instructions[4].flags == ["--interval=5s"] && df.instructions[4].strings == ["CMD", "curl", "-f", "x"])
        #expect(throws: DockerfileError.self) { _ = try DockerfileParser.parse("FROM a\nCMD [1]\n") }
    }

    @Test func onbuildNestsAndDumps() throws {
        let df = try DockerfileParser.parse("FROM a\nONBUILD RUN --mount=type=cache echo hi\n")
        #expect(DockerfileDump.dump(df) == "(from \"a\")\n(onbuild (run [\"--mount=type=cache\"] \"echo hi\"))\n")
    }

    @Test func goQuoting() {
        #expect(GoQuote.quote("a\"b\\c\td\u{1}\u{7f}é\u{a0}") == "\"a\\\"b\\\\c\\td\\x01\\x7fé\\u00a0\"")
    }
}
