using System.Security.Cryptography;
using System.Text;

namespace AgentPerimeter.Gateway.Secrets;

/// <summary>Compares a presented credential with the expected one in constant time (lengths hidden too: both are hashed first).</summary>
internal static class SecretCompare
{
    public static bool FixedTimeEquals(string presented, string expected) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
}
