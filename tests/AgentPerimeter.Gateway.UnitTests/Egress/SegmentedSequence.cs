using System.Buffers;

namespace AgentPerimeter.Gateway.UnitTests.Egress;

/// <summary>A <see cref="ReadOnlySequence{T}"/> over several segments, as a pipe hands over bytes that arrived in pieces.</summary>
internal sealed class SegmentedSequence : ReadOnlySequenceSegment<byte>
{
    private SegmentedSequence(ReadOnlyMemory<byte> memory, long runningIndex)
    {
        Memory = memory;
        RunningIndex = runningIndex;
    }

    /// <summary>The bytes cut into segments of <paramref name="segmentLength"/> (the last may be shorter).</summary>
    public static ReadOnlySequence<byte> Split(byte[] data, int segmentLength)
    {
        if (data.Length == 0)
            return ReadOnlySequence<byte>.Empty;
        var first = new SegmentedSequence(data.AsMemory(0, Math.Min(segmentLength, data.Length)), 0);
        var last = first;
        for (int offset = segmentLength; offset < data.Length; offset += segmentLength)
        {
            var next = new SegmentedSequence(data.AsMemory(offset, Math.Min(segmentLength, data.Length - offset)), offset);
            last.Next = next;
            last = next;
        }
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }
}
