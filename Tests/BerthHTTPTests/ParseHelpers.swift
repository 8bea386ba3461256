import BerthHTTP

/// Parses `text` as one request head, all at once.
func parseRequest(_ text: String, maxHeadSize: Int = 32 * 1024) -> (HeadParseResult, RequestHead) {
    var parser = RequestHeadParser(maxHeadSize: maxHeadSize)
    let bytes = Array(text.utf8)
    let result = bytes.withUnsafeBytes { parser.parse($0) }
    return (result, parser.head)
}

/// The error a request head is refused with, or nil if it parses.
func requestError(_ text: String, maxHeadSize: Int = 32 * 1024) -> HTTPParseError? {
    if case .error(let e) = parseRequest(text, maxHeadSize: maxHeadSize).0 { return e }
    return nil
}

func parseResponse(_ text: String) -> (HeadParseResult, ResponseHead) {
    var parser = ResponseHeadParser()
    let bytes = Array(text.utf8)
    let result = bytes.withUnsafeBytes { parser.parse($0) }
    return (result, parser.head)
}

func responseError(_ text: String) -> HTTPParseError? {
    if case .error(let e) = parseResponse(text).0 { return e }
    return nil
}

/// Decodes a whole chunked body; returns the data or the error.
func decodeChunked(_ text: String, maxData: Int = 1 << 20) -> Result<String, HTTPParseError> {
    var decoder = ChunkedDecoder()
    let bytes = Array(text.utf8)
    var out: [UInt8] = []
    var pos = 0
    while true {
        let step = bytes.withUnsafeBytes { decoder.decode($0, position: &pos, maxData: maxData) }
        switch step {
        case .data(let offset, let count): out += bytes[offset..<offset + count]
        case .done: return .success(String(decoding: out, as: UTF8.self))
        case .needMore: return .failure(.invalidTrailer)  // incomplete: use a sentinel the tests never expect
        case .error(let e): return .failure(e)
        }
    }
}
