import Foundation

/// The report printed at exit (`--report text|json`).
struct SimReport: Encodable {
    enum Format: String, CaseIterable {
        case text, json
    }

    let seed: UInt64
    let tcpDevices: Int
    let udpDevices: Int
    let elapsedSeconds: Double
    let framesSent: [String: Int]
    let framesTotal: Int
    let framesPerSecond: Double
    let bytesSent: Int
    let connectionsOpened: Int
    let connectionsFailed: Int
    let connectionsClosedByPeer: Int
    let udpSocketsOpened: Int
    let udpSocketsFailed: Int
    let datagramsSent: Int
    let writeErrors: Int
    let socketErrors: Int
    let ticksSkippedOffline: Int
    let ticksSkippedBackpressure: Int
    let ticksMissed: Int
    let downlinkBytes: Int
    let downlinkMessages: Int
    let positionRequestsAnswered: Int

    init(tally: SimTally, seed: UInt64, tcpDevices: Int, udpDevices: Int, elapsedSeconds: Double) {
        self.seed = seed
        self.tcpDevices = tcpDevices
        self.udpDevices = udpDevices
        self.elapsedSeconds = (elapsedSeconds * 1000).rounded() / 1000
        self.framesSent = Dictionary(uniqueKeysWithValues: FrameWord.allCases.map { ($0.rawValue, tally.framesSent[$0.rawValue] ?? 0) })
        self.framesTotal = tally.framesTotal
        self.framesPerSecond = elapsedSeconds > 0 ? (Double(tally.framesTotal) / elapsedSeconds * 10).rounded() / 10 : 0
        self.bytesSent = tally.bytesSent
        self.connectionsOpened = tally.connectionsOpened
        self.connectionsFailed = tally.connectionsFailed
        self.connectionsClosedByPeer = tally.connectionsClosedByPeer
        self.udpSocketsOpened = tally.udpSocketsOpened
        self.udpSocketsFailed = tally.udpSocketsFailed
        self.datagramsSent = tally.datagramsSent
        self.writeErrors = tally.writeErrors
        self.socketErrors = tally.socketErrors
        self.ticksSkippedOffline = tally.ticksSkippedOffline
        self.ticksSkippedBackpressure = tally.ticksSkippedBackpressure
        self.ticksMissed = tally.ticksMissed
        self.downlinkBytes = tally.downlinkBytes
        self.downlinkMessages = tally.downlinkMessages
        self.positionRequestsAnswered = tally.positionRequestsAnswered
    }

    func render(_ format: Format) throws -> String {
        switch format {
        case .json:
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.outputFormatting = [.sortedKeys]
            return String(decoding: try encoder.encode(self), as: UTF8.self)
        case .text:
            let byWord = FrameWord.allCases.map { "\($0.rawValue)=\(framesSent[$0.rawValue] ?? 0)" }.joined(separator: " ")
            return """
                cctr-sim report (seed \(seed), \(tcpDevices) tcp + \(udpDevices) udp devices, \(elapsedSeconds) s)
                frames sent:      \(framesTotal) (\(framesPerSecond)/s)  \(byWord)
                bytes sent:       \(bytesSent)
                tcp connections:  opened \(connectionsOpened), failed \(connectionsFailed), closed by peer \(connectionsClosedByPeer)
                udp sockets:      opened \(udpSocketsOpened), failed \(udpSocketsFailed); datagrams sent \(datagramsSent)
                errors:           write \(writeErrors), socket \(socketErrors)
                ticks skipped:    offline \(ticksSkippedOffline), backpressure \(ticksSkippedBackpressure), missed (loops behind) \(ticksMissed)
                downlink:         \(downlinkMessages) messages, \(downlinkBytes) bytes, \(positionRequestsAnswered) position requests answered
                """
        }
    }
}
