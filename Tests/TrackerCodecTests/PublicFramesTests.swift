import TrackerCodec
import Foundation
import TestSupport
import Testing

/// Every frame of `frames-public.txt`, checked against every value the file lists, and fed
/// through the splitter in every chunking.
@Suite struct PublicFramesTests {
    @Test func fixtureMatchesSharedCopy() throws {
        let shared = PublicFrame.packageRoot.deletingLastPathComponent()
            .appendingPathComponent("shared/protocol/frames-public.txt")
        guard let original = try? Data(contentsOf: shared) else { return }  // shared/ is beside the clone in CI
        let copy = try Data(contentsOf: PublicFrame.fixturesDirectory.appendingPathComponent("frames-public.txt"))
        #expect(copy == original, "Tests/Fixtures/frames-public.txt differs from shared/protocol: copy it again")
    }

    @Test func fixtureIsNotEmpty() {
        #expect(PublicFrame.all.count >= 13)
    }

    @Test(arguments: PublicFrame.all)
    func decodesEveryListedValue(_ sample: PublicFrame) throws {
        let frame = try CarscopDecoder.decode(Array(sample.frame.utf8))
        let expected = sample.decoded
        #expect(frame.word == expected["message_type"]?.string)
        #expect(frame.raw == Array(sample.frame.utf8))
        let kind = expected["kind"]?.string
        switch frame.content {
        case .heartbeat:
            #expect(kind == "heartbeat")
        case .login(let id, _):
            #expect(kind == "position")
            #expect(id == expected["device_id"]?.string)
        case .position:
            #expect(kind == "position")
            #expect(expected["device_id"] == nil)
        case .history:
            #expect(kind == "history")
        case .alarm(let code, let label, _):
            #expect(kind == "alarm")
            #expect(code == expected["code"]?.string)
            #expect(label == expected["label"]?.string)
            #expect(TraccarAlarm.of(code) == expected["alarm"]?.string)
        case .unknown:
            Issue.record("no public frame is of an unknown type")
        }
        guard let gps = frame.gps else {
            #expect(kind == "heartbeat")
            return
        }
        #expect(gps.valid == expected["valid"]?.bool)
        #expect(gps.latitude == expected["latitude"]?.number)
        #expect(gps.longitude == expected["longitude"]?.number)
        #expect(gps.speed == expected["speed_kmh"]?.number)
        #expect(gps.course == expected["course"]?.number)
        #expect(Self.iso(gps.dateTime) == expected["gps_time"]?.string)
        if let bits = expected["status_bits"]?.string {
            #expect(gps.statusBits == bits)
        } else {
            #expect(gps.statusBits == nil)
            #expect(expected["status_bits"]?.isNull == true)
        }
        if let odometer = expected["odometer_m"]?.number {
            #expect(gps.odometer == Int64(odometer))
        } else {
            #expect(gps.odometer == nil)
        }
        #expect(gps.hasFillerCoordinates == (gps.latitude == 0 && gps.longitude == 0))
    }

    @Test(arguments: PublicFrame.all)
    func splitsIdenticallyAtEveryBoundary(_ sample: PublicFrame) {
        let bytes = Array(sample.frame.utf8)
        let whole = SplitterHarness.events(bytes, chunks: [bytes.count])
        #expect(whole == [.frame(bytes, protocolIndex: 0)])
        #expect(SplitterHarness.events(bytes, chunks: Array(repeating: 1, count: bytes.count)) == whole)
        for split in 1..<bytes.count {
            #expect(SplitterHarness.events(bytes, chunks: [split, bytes.count - split]) == whole, "split at \(split)")
        }
    }

    /// All frames joined (with the CR LF a real stream may carry between some of them), split
    /// in two at every byte boundary and in three at a sample of pairs.
    @Test func joinedStreamSplitsIdenticallyAtEveryBoundary() {
        var stream: [UInt8] = []
        for (index, sample) in PublicFrame.all.enumerated() {
            stream += Array(sample.frame.utf8)
            if index % 3 == 0 { stream += [0x0D, 0x0A] }
        }
        let expected = PublicFrame.all.map { SplitterEvent.frame(Array($0.frame.utf8), protocolIndex: 0) }
        #expect(SplitterHarness.events(stream, chunks: [stream.count]) == expected)
        #expect(SplitterHarness.events(stream, chunks: Array(repeating: 1, count: stream.count)) == expected)
        for split in 1..<stream.count {
            #expect(SplitterHarness.events(stream, chunks: [split, stream.count - split]) == expected)
        }
        for first in stride(from: 1, to: stream.count, by: 7) {
            for second in stride(from: first, to: stream.count, by: 13) {
                let chunks = [first, second - first, stream.count - second]
                #expect(SplitterHarness.events(stream, chunks: chunks) == expected)
            }
        }
    }

    static func iso(_ t: CivilDateTime) -> String {
        func pad(_ v: Int, _ w: Int) -> String { String(repeating: "0", count: max(0, w - String(v).count)) + String(v) }
        return "\(pad(t.year, 4))-\(pad(t.month, 2))-\(pad(t.day, 2))T\(pad(t.hour, 2)):\(pad(t.minute, 2)):\(pad(t.second, 2))Z"
    }
}

/// Traccar's alarm vocabulary, restated here so the test does not reuse the code under test.
enum TraccarAlarm {
    static func of(_ code: String) -> String {
        ["0": "powerCut", "1": "accident", "2": "sos", "3": "vibration", "4": "lowspeed",
         "5": "overspeed", "6": "geofenceExit", "7": "movement"][code] ?? "general"
    }
}

enum SplitterHarness {
    /// Feeds `bytes` in chunks of the given sizes, draining after each, then finishes.
    static func events(_ bytes: [UInt8], chunks: [Int], maxFrameBytes: Int = 1024) -> [SplitterEvent] {
        events(bytes, chunks: chunks, options: CodecOptions(maxFrameBytes: maxFrameBytes))
    }

    static func events(_ bytes: [UInt8], chunks: [Int], options: CodecOptions) -> [SplitterEvent] {
        var splitter = StreamSplitter(options: options)
        return events(&splitter, bytes, chunks: chunks)
    }

    static func events(_ splitter: inout StreamSplitter, _ bytes: [UInt8], chunks: [Int]) -> [SplitterEvent] {
        var out: [SplitterEvent] = []
        var offset = 0
        for size in chunks where size > 0 {
            splitter.append(bytes[offset..<min(bytes.count, offset + size)])
            offset += size
            while let event = splitter.next() { out.append(event) }
        }
        out += splitter.finish()
        return out
    }
}
