using System.Security.Cryptography;
using System.Text;

namespace AgentPerimeter.Protocol.Audit;

/// <summary>
/// The hash chain of the audit log, written by the gateway and read by <c>perimeter audit verify</c>.
/// A line is <c>{"seq":N,"prev":"&lt;hash of line N-1&gt;",&lt;fields&gt;,"hash":"&lt;sha256&gt;"}</c> where the
/// hash covers the line's bytes up to (not including) <c>,"hash"</c>, closed with <c>}</c>. Editing any
/// line breaks its hash; deleting or reordering lines breaks <c>seq</c> and <c>prev</c>.
/// </summary>
public static class AuditChain
{
    /// <summary>The <c>prev</c> of the first record of a fresh log.</summary>
    public static readonly string Genesis = new('0', 64);
    private const string HashPrefix = ",\"hash\":\"";
    private const int HashSuffixLength = 9 + 64 + 2; // ,"hash":" + 64 hex + "}

    /// <summary>The body bytes (what the hash covers) for a record.</summary>
    /// <param name="seq">The record's sequence number.</param>
    /// <param name="prev">The hash of the previous record (<see cref="Genesis"/> for the first).</param>
    /// <param name="fields">The record's own fields, serialized without braces.</param>
    public static byte[] Body(long seq, string prev, ReadOnlySpan<byte> fields)
    {
        var head = Encoding.UTF8.GetBytes($"{{\"seq\":{seq},\"prev\":\"{prev}\",");
        var body = new byte[head.Length + fields.Length + 1];
        head.CopyTo(body, 0);
        fields.CopyTo(body.AsSpan(head.Length));
        body[^1] = (byte)'}';
        return body;
    }

    /// <summary>The record's hash: lower-case hex SHA-256 of its body.</summary>
    public static string Hash(ReadOnlySpan<byte> body) => Convert.ToHexStringLower(SHA256.HashData(body));

    /// <summary>Writes the full line (body with the hash field, newline-terminated) into <paramref name="output"/>.</summary>
    public static void WriteLine(Stream output, byte[] body, string hash)
    {
        output.Write(body, 0, body.Length - 1);
        output.Write(Encoding.ASCII.GetBytes(HashPrefix + hash + "\"}\n"));
    }

    /// <summary>Splits a stored line into the body the hash covers and the stated hash; null if malformed.</summary>
    public static (byte[] Body, string Hash)? Split(string line)
    {
        if (line.Length < HashSuffixLength + 2 || !line.EndsWith("\"}", StringComparison.Ordinal))
            return null;
        int at = line.Length - HashSuffixLength;
        if (string.CompareOrdinal(line, at, HashPrefix, 0, HashPrefix.Length) != 0)
            return null;
        var hash = line.Substring(at + HashPrefix.Length, 64);
        var body = Encoding.UTF8.GetBytes(string.Concat(line.AsSpan(0, at), "}"));
        return (body, hash);
    }
}
