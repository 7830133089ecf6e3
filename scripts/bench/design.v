// scripts/bench.sh's CPU-bound Yosys workload: a small multiply-accumulate datapath,
// synthesised to gates (`synth`, ABC included), a few seconds of Yosys's own work.
module top(input clk, input rst, input [31:0] a, b, c, output reg [63:0] acc, output reg [15:0] crc);
  wire [63:0] p = a * b;
  wire [63:0] q = c * c;
  always @(posedge clk)
    if (rst) begin
      acc <= 0;
      crc <= 16'hffff;
    end else begin
      acc <= acc + (p ^ q) - (a < c ? {32'd0, b} : {c, 32'd0});
      crc <= {crc[14:0], 1'b0} ^ (crc[15] ^ p[0] ? 16'h1021 : 16'h0000);
    end
endmodule
