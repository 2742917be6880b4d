using XdpGate.Appliance.MapData;
using Xunit;

namespace XdpGate.Appliance.Tests.MapData;

public sealed class HexBytesTests
{
    [Theory]
    [InlineData("0a0B", "0a0b")]
    [InlineData("0a 0b\n ff", "0a0bff")]
    [InlineData("  0x0a0b", "0a0b")]
    [InlineData("0X0A", "0a")]
    [InlineData("", "")]
    public void Hex_with_whitespace_and_an_optional_0x_parses_to_its_bytes(string text, string expected) =>
        Assert.Equal(expected, HexBytes.Format(HexBytes.Parse(text, "key")));

    [Theory]
    [InlineData("0g", "key: 'g' at character 2 is not a hex digit")]
    [InlineData("0a 0x0b", "key: 'x' at character 5 is not a hex digit")]
    [InlineData("abc", "key: odd number of hex digits (3); each byte needs two")]
    public void Text_that_is_not_hex_bytes_is_refused_naming_the_character(string text, string message) =>
        Assert.Equal(message, Assert.Throws<FormatException>(() => HexBytes.Parse(text, "key")).Message);
}
