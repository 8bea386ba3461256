import Testing
import BerthImage

/// Expansion cases written from BuildKit's documented rules (Dockerfile
/// reference, "Environment replacement") and its shell lexer's behaviour.
@Suite struct ShellWordTests {
    let env = ["v": "val", "empty": "", "sp": "a b  c", "PATH": "/bin"]
    let sh = ShellWord()

    func word(_ s: String) throws -> String { try sh.expandWord(s, env: env) }
    func words(_ s: String) throws -> [String] { try sh.expandWords(s, env: env) }

    @Test func plainAndBracedVariables() throws {
        #expect(try word("$v") == "val")
        #expect(try word("${v}") == "val")
        #expect(try word("x${v}y") == "xvaly")
        #expect(try word("$vx") == "")  // the name is vx
        #expect(try word("$unset") == "")
        #expect(try word("$PATH:/usr/bin") == "/bin:/usr/bin")
        #expect(try word("$") == "$")
        #expect(try word("a$") == "a$")
        #expect(try word("$ x") == "$ x")
    }

    @Test func modifiers() throws {
        #expect(try word("${v:-w}") == "val")
        #expect(try word("${empty:-w}") == "w")
        #expect(try word("${unset:-w}") == "w")
        #expect(try word("${empty-w}") == "")
        #expect(try word("${unset-w}") == "w")
        #expect(try word("${v:+w}") == "w")
        #expect(try word("${empty:+w}") == "")
        #expect(try word("${unset:+w}") == "")
        #expect(try word("${empty+w}") == "w")
        #expect(try word("${unset+w}") == "")
        #expect(try word("${unset:-$v}") == "val")
        #expect(try word("${unset:-${v:+nested}}") == "nested")
        #expect(try word("${unset:-a b}") == "a b")
        #expect(throws: ShellWord.Failure.self) { _ = try word("${unset:?required}") }
        #expect(throws: ShellWord.Failure.self) { _ = try word("${v") }
        #expect(throws: ShellWord.Failure.self) { _ = try word("${}") }
        #expect(throws: ShellWord.Failure.self) { _ = try word("${v:x}") }
    }

    @Test func quotesAndEscapes() throws {
        #expect(try word("'$v'") == "$v")
        #expect(try word("\"$v\"") == "val")
        #expect(try word("\"a\\\"b\"") == "a\"b")
        #expect(try word("\"a\\b\"") == "a\\b")  // only \" \$ \\ are escapes inside double quotes
        #expect(try word("\\$v") == "$v")
        #expect(try word("\\\\") == "\\")
        #expect(try word("a\\") == "a")
        #expect(try word("'a\\b'") == "a\\b")
        #expect(throws: ShellWord.Failure.self) { _ = try word("'open") }
        #expect(throws: ShellWord.Failure.self) { _ = try word("\"open") }
        #expect(try ShellWord(escape: "`").expandWord("`$v `\\", env: env) == "$v \\")
    }

    @Test func wordSplitting() throws {
        #expect(try words("a  b") == ["a", "b"])
        #expect(try words("$sp") == ["a", "b", "c"])
        #expect(try words("\"$sp\"") == ["a b  c"])
        #expect(try words("x'' y") == ["x", "y"])
        #expect(try words("'' y") == ["", "y"])
        #expect(try words("a\\ b") == ["a b"])
        #expect(try words("$unset") == [])
    }
}
