import Foundation

/// libFuzzer calls this for every input; a violated invariant crashes so libFuzzer keeps the input.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = size == 0 || data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    let problems = PipelineInvariants.violations(in: input)
    if !problems.isEmpty {
        fatalError(problems.joined(separator: "\n"))
    }
    return 0
}

#if FUZZING
import CFuzzDriver

// SwiftPM's `main` replaces libFuzzer's, so hand control to libFuzzer's driver explicitly.
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in Int32(fuzzOneInput(data, size)) })
#else
// Without libFuzzer: replay the files (or the files in the folders) given as arguments.
var failures = 0
var replayed = 0
for argument in CommandLine.arguments.dropFirst() {
    let url = URL(fileURLWithPath: argument)
    let files = (try? FileManager.default.contentsOfDirectory(at: url, includingPropertiesForKeys: nil)) ?? [url]
    for file in files.sorted(by: { $0.path < $1.path }) {
        guard let bytes = try? Data(contentsOf: file) else { continue }
        replayed += 1
        for problem in PipelineInvariants.violations(in: Array(bytes)) {
            failures += 1
            print("\(file.path): \(problem)")
        }
    }
}
print("replayed \(replayed) inputs, \(failures) violations")
exit(failures == 0 ? 0 : 1)
#endif
