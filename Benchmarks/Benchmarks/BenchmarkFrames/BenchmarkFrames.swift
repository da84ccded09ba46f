/// The frames the benchmarks feed: a realistic mix per protocol, as one TCP connection
/// would deliver them (reads of about one TCP segment).
public enum BenchmarkFrames {
    public static let framesPerIteration = 10_000
    public static let carscopChunks = segmented(carscopFrames)
    public static let h02Chunks = segmented(h02Frames)
}

/// A realistic stream: the public sample frames (positions with and without tail, history,
/// alarm, heartbeat, no-fix), repeated, as one TCP connection would deliver them.
public let carscopFrames = [
    "*150817160254UB05CC8011400042499160254A2106.8799S14910.2583E000.0150817158.3511111111L000000^",
    "*161101144927UD00144927A1203.5394S07657.7255W000.4161101255.0011111111L022043^",
    "*160618232614UD00232614A5009.1747N01910.3829E0.000160618298.2811000000L000000^",
    "*160728045706UD04045706A1202.7738S07658.6489W015.5160728247.8911111111L002626^",
    "*040331141830UA012Hi-jack061825A2934.0133N10627.2544E000.0040331309.6200000000L000000^",
    "*170821223045UB00HSO^",
    "*161101144927UD00144927A1203.5394S07657.7255W000.4161101255.0011111111L022044^",
    "*170821223121UD00061825V0000.0000N00000.0000E000.0040331309.62^",
]

/// H02 text frames as the units send them: `V1` positions in the three coordinate spellings,
/// with and without the battery field, an SOS status word, a heartbeat, cell towers.
public let h02Frames = [
    "*HQ,4105131188,V1,101112,A,2106.8799,S,14910.2583,E,012.30,158,241126,FFFFFBFF#",
    "*HQ,865205030330012,V1,145452,A,2240.55181,N,11358.32389,E,0.00,0,100815,FFFFFBFF#",
    "*HQ,5905101893,V1,105759,A,37573392,S,145037022,E,000.00,173,280122,FF7FFBFF,,,9059e2c,8232,4#",
    "*HQ,4105131188,V1,101212,A,-21-6.8800,S,-149-10.2600,E,0.00,000,241126,FFFDFBFF#",
    "*HQ,4105131188,V1,101113,A,2106.8799,S,14910.2583,E,0.00,0,87,241126,FFFFFBFD#",
    "*HQ,4105131188,LINK,101112,20,8,100,0,0,241126,FFFFFBFF#",
    "*HQ,4970105243,V1,104000,A,2235.1777,N,11357.8913,E,000.27,235,130721,FFFFFBFF,460,11,d18e105,7752,6#",
    "*HQ,4109179024,NBR,103732,722,310,0,6,8106,32010,23,8101,22007,25,100217,FFFFFBFF,5#",
]


/// `BenchmarkFrames.framesPerIteration` frames cycling through `frames`, in reads of about one TCP segment.
public func segmented(_ frames: [String]) -> [ArraySlice<UInt8>] {
    var stream: [UInt8] = []
    for i in 0..<BenchmarkFrames.framesPerIteration {
        stream += Array(frames[i % frames.count].utf8)
    }
    return stride(from: 0, to: stream.count, by: 1400).map { stream[$0..<min(stream.count, $0 + 1400)] }
}


