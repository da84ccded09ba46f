import Foundation
import Testing
import TestSupport

@testable import cctr_fuzz

/// Replays the inputs the fuzzer once failed on, and its seed corpus, through the same
/// invariant checks `cctr-fuzz` applies.
@Suite struct FuzzRegressionTests {
    static func inputs(in folder: String) throws -> [URL] {
        let directory = PublicFrame.fixturesDirectory.appendingPathComponent(folder)
        return try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.lastPathComponent != "README.md" }
            .sorted { $0.path < $1.path }
    }

    @Test func regressionInputsKeepTheInvariants() throws {
        for file in try Self.inputs(in: "fuzz-regressions") {
            let problems = PipelineInvariants.violations(in: Array(try Data(contentsOf: file)))
            #expect(problems.isEmpty, "\(file.lastPathComponent): \(problems)")
        }
    }

    @Test func seedCorpusKeepsTheInvariants() throws {
        let files = try Self.inputs(in: "fuzz-corpus")
        #expect(files.count >= PublicFrame.all.count)
        for file in files {
            let problems = PipelineInvariants.violations(in: Array(try Data(contentsOf: file)))
            #expect(problems.isEmpty, "\(file.lastPathComponent): \(problems)")
        }
    }

    /// The checks can fail: a payload-free input still has to account for its bytes.
    @Test func everyByteOfHostileInputIsAccountedFor() {
        let hostile = Array(repeating: UInt8(ascii: "*"), count: 700) + Array("123456789012UB05".utf8) + [0, 13, 10]
        #expect(PipelineInvariants.violations(in: hostile).isEmpty)
    }
}
