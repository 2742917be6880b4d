using System.Globalization;
using System.Text.Json;
using XdpGate.Appliance.Config;

namespace XdpGate.Appliance.Service;

/// <summary>
/// The appliance's log: one line per event on <paramref name="writer"/>, as text ("2026-01-01T00:00:00Z info: ...")
/// or JSON ({"time":..., "level":..., "msg":...}), below the config's level dropped. Thread-safe: reloads log from
/// signal, watcher and control threads.
/// </summary>
public sealed class ApplianceLog(TextWriter writer)
{
    private readonly object gate = new();

    /// <summary>The `logging` section of the config serving now (read at every line, so a reload's change applies at once).</summary>
    public Func<LoggingConfig> Settings { get; set; } = () => LoggingConfig.Default;

    public void Write(LogLevel level, string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var settings = Settings();
        if (level < settings.Level)
            return;
        var time = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        var name = level.ToString().ToLowerInvariant();
        var line = settings.Json
            ? JsonSerializer.Serialize(new Dictionary<string, string> { ["time"] = time, ["level"] = name, ["msg"] = message })
            : $"{time} {name}: {message}";
        lock (gate)
            writer.WriteLine(line);
    }
}
