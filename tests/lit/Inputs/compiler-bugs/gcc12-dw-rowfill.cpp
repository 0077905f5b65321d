// g++ 12.2 (Debian 12.2.0-14) miscompiles this at -O3 -mavx2: the loop vectorizer if-converts the
// per-row pad branch of the row fill into masked loads and zero-stores whole data rows (max abs err
// ~4.8). Right at -O2, -O3 -mavx, with clang++-14, and wrong also under -fno-strict-aliasing -fwrapv;
// tests/lit/codegen/gcc12-vectorizer-bug.test shows it is clean under UBSan and ASan. It is the row
// fill and scalar loop of kiln_f32_conv2d_dw (codegen/kernels/conv.h) before that fill lost its
// per-row branch, for one 14x14 channel, 3x3, stride 1, pad 1.   g++ -O3 -mavx2 THIS.cpp && ./a.out
#include <cstdio>
#include <cmath>
#include <cstring>
constexpr long C=1,H=14,W=14,OH=14,OW=14,KH=3,KW=3,PT=1,PL=1;
constexpr long PH=(OH-1)+KH, PW=(OW-1)+KW, RS=PW;
static float x[C*H*W], w[C*9], b[C], y[C*H*W];
static float plane[PH*RS];
__attribute__((noinline)) void dw(const float* x, const float* w, const float* bias, float* y) {
  for (long c = 0; c < C; ++c) {
    const float *xc = x + c * H * W;
    for (long r = 0; r < PH; ++r) {
      const long ih = r - PT; float *dst = plane + r * RS;
      if (ih < 0 || ih >= H) { for (long q = 0; q < RS; ++q) dst[q] = 0.0f; continue; }
      constexpr long lo = PL, hi = PL + W;
      for (long q = 0; q < lo; ++q) dst[q] = 0.0f;
      for (long q = lo; q < hi; ++q) dst[q] = xc[ih * W + q - PL];
      for (long q = hi; q < PW; ++q) dst[q] = 0.0f;
    }
    const float *wc = w + c * KH * KW; const float bv = bias[c]; float *yc = y + c * OH * OW;
    for (long oh = 0; oh < OH; ++oh) {
      const float *prow = plane + oh * RS;
      for (long ow0 = 0; ow0 < OW; ++ow0) {
        float s = bv;
        for (long kh = 0; kh < KH; ++kh)
          for (long kw = 0; kw < KW; ++kw)
            s += wc[kh * KW + kw] * prow[kh * RS + kw + ow0];
        yc[oh * OW + ow0] = s;
      }
    }
  }
}
int main(){
  for(long i=0;i<C*H*W;++i) x[i]=std::sin(i*0.37f);
  for(long i=0;i<C*9;++i) w[i]=std::cos(i*0.11f);
  for(long i=0;i<C;++i) b[i]=0.01f*i;
  dw(x,w,b,y);
  double e=0;
  for(long c=0;c<C;++c) for(long i=0;i<H;++i) for(long j=0;j<W;++j){
    float s=b[c];
    for(long kh=0;kh<3;++kh) for(long kw=0;kw<3;++kw){ long ih=i+kh-1, iw=j+kw-1; if(ih>=0&&ih<H&&iw>=0&&iw<W) s+=w[c*9+kh*3+kw]*x[(c*H+ih)*W+iw]; }
    e=std::fmax(e,std::fabs(s-y[(c*H+i)*W+j]));
  }
  std::printf("max abs err %g\n", e); return e>1e-4;
}
