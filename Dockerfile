# Build: the SDK image restores, tests nothing (CI does) and publishes the xdpgate command.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props XdpGate.sln ./
COPY src/ src/
RUN dotnet publish src/XdpGate.Cli/XdpGate.Cli.csproj -c Release -o /app --nologo

# Run: the runtime image with only the published command. Packet I/O needs NET_ADMIN/NET_RAW
# (docker run --cap-add NET_ADMIN --cap-add NET_RAW --network host ...); pure engine commands need nothing.
FROM mcr.microsoft.com/dotnet/runtime:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
ENTRYPOINT ["dotnet", "/app/xdpgate.dll"]
CMD ["--help"]
