using System.Buffers.Binary;
using System.Text;

namespace AgentPerimeter.Gateway.UnitTests.Egress;

/// <summary>
/// Hand-made ClientHellos, field by field, for the shapes no real client sends: two host names, a repeated
/// extension, a length that lies. Defaults give a minimal well-formed TLS 1.2-style hello.
/// </summary>
internal sealed class ClientHelloBuilder
{
    public const ushort ServerName = 0;

    public byte[] LegacyVersion { get; init; } = [3, 3];

    public byte[] SessionId { get; init; } = new byte[32];

    public byte[] CipherSuites { get; init; } = [0x13, 0x01, 0xc0, 0x2f];

    public byte[] CompressionMethods { get; init; } = [0];

    /// <summary>The extensions in order; null leaves out the extensions block altogether.</summary>
    public IReadOnlyList<(ushort Type, byte[] Data)>? Extensions { get; init; } = [];

    /// <summary>A hello whose only extension is server_name with these host names.</summary>
    public static ClientHelloBuilder Naming(params string[] hostNames) => new() { Extensions = [(ServerName, ServerNameData(hostNames))] };

    /// <summary>A server_name extension body: a list of host_name entries.</summary>
    public static byte[] ServerNameData(params string[] hostNames) =>
        ServerNameList(hostNames.Select(h => ((byte)0, Encoding.Latin1.GetBytes(h))).ToArray());

    /// <summary>A server_name extension body with entries of any name type.</summary>
    public static byte[] ServerNameList(params (byte Type, byte[] Name)[] entries)
    {
        var list = entries.SelectMany(e => new[] { e.Type }.Concat(Length16(e.Name.Length)).Concat(e.Name)).ToArray();
        return [.. Length16(list.Length), .. list];
    }

    /// <summary>The ClientHello body (what follows the handshake header).</summary>
    public byte[] Body()
    {
        var body = new List<byte>();
        body.AddRange(LegacyVersion);
        body.AddRange(Enumerable.Range(0, 32).Select(i => (byte)i)); // random
        body.Add((byte)SessionId.Length);
        body.AddRange(SessionId);
        body.AddRange(Length16(CipherSuites.Length));
        body.AddRange(CipherSuites);
        body.Add((byte)CompressionMethods.Length);
        body.AddRange(CompressionMethods);
        if (Extensions is not null)
        {
            var extensions = Extensions.SelectMany(e => Length16(e.Type).Concat(Length16(e.Data.Length)).Concat(e.Data)).ToArray();
            body.AddRange(Length16(extensions.Length));
            body.AddRange(extensions);
        }
        return [.. body];
    }

    /// <summary>The handshake message: type, 24-bit length, body.</summary>
    public byte[] Handshake() => HandshakeOf(Body());

    /// <summary>The hello in one TLS record.</summary>
    public byte[] Record() => Frame(Handshake());

    public static byte[] HandshakeOf(byte[] body, byte type = 1) =>
        [type, (byte)(body.Length >> 16), (byte)(body.Length >> 8), (byte)body.Length, .. body];

    /// <summary>One TLS record around a payload.</summary>
    public static byte[] Frame(byte[] payload, byte contentType = 22, ushort version = 0x0301) =>
        [contentType, (byte)(version >> 8), (byte)version, .. Length16(payload.Length), .. payload];

    /// <summary>A handshake message cut into records: one per size given, and one for the rest.</summary>
    public static byte[] Fragment(byte[] handshake, params int[] sizes)
    {
        var records = new List<byte>();
        int offset = 0;
        foreach (int size in sizes)
        {
            records.AddRange(Frame(handshake[offset..(offset + size)]));
            offset += size;
        }
        if (offset < handshake.Length)
            records.AddRange(Frame(handshake[offset..]));
        return [.. records];
    }

    /// <summary>The handshake message inside a single-record hello (a real one, as SslStream sent it).</summary>
    public static byte[] Unframe(byte[] record)
    {
        int length = BinaryPrimitives.ReadUInt16BigEndian(record.AsSpan(3));
        if (record.Length != 5 + length)
            throw new InvalidOperationException($"expected one record of {length} bytes, got {record.Length - 5} after the header");
        return record[5..];
    }

    private static byte[] Length16(int value) => [(byte)(value >> 8), (byte)value];
}
