import ArgumentParser
import BerthImage
import Foundation

/// Runs a store call, printing its error and exiting 1 when it fails.
func cli<R>(_ body: () throws(StoreError) -> R) throws -> R {
    do {
        return try body()
    } catch {
        printError("berth: \(error)")
        throw ExitCode(1)
    }
}
