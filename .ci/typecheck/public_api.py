"""The README's inline examples and tame's public API as a user's script calls them: checked by mypy in .ci/run
(never executed). A method that is not in its class's body, or a call that no longer fits a signature, is an error here."""
import glob

import pandas as pd

from tame import AsimClassifier, AsimDataSet, DataAnalyzer, FeatureExtractor, PreProcessor, Provider, combine_data_sets
from tame.archives import download_oath
from tame.camera import CAMERAS, Camera, get_camera, partner_code
from tame.config import EngineConfig, FieldOfView
from tame.convert import convert_tame
from tame.sources import image_index, index_files, read_image_index


def readme_examples(oath_dir: str, torch_path: str) -> None:
    # "A classifier is built once with AsimClassifier.from_oath(OATH_DIR, torch_path=...)"
    clf = AsimClassifier.from_oath(oath_dir, torch_path=torch_path)
    probs = clf.predict_proba(['a.png'])
    labels = clf.predict(['a.png'])
    results: pd.DataFrame = clf.classify_images(glob.glob('path/to/asim/files/*.png'), batch_size=64)
    print(probs.shape, labels.shape, results.columns)
    # TAME's pickled classifier, with the explicit opt-in
    AsimClassifier.from_tame_pickle('oath_clf.joblib', trust=True)
    # files named your way, or an index CSV
    idx = index_files(['kho/KHO-2010-11-25T160000-5577.png'], '{loc}-%Y-%m-%dT%H%M%S-{wavelength}.png')
    idx2 = read_image_index('frames.csv')
    idx3 = image_index('kho/', file_pattern='{loc}-%Y-%m-%dT%H%M%S-{wavelength}.png')
    print(len(idx), len(idx2), len(idx3))
    # the engine and the field of view: one object each
    eng = FeatureExtractor(EngineConfig(batch_size=32, layer='pooled'))
    feats = eng.extract(['a.png'], fov=FieldOfView(0.45, (0.48, 0.5)))
    print(feats.shape)
    # a camera of your own
    pkr = Camera('PKR', 'Poker Flat', 65.126, -147.479, (4278, 5577, 6300), FieldOfView(0.45), magn='CMO')
    print(pkr.partner('magn'), get_camera('NYA4').station, partner_code('NYA', 'magn'), sorted(CAMERAS))
    # TAME's monthly files as they are, and converted
    p = Provider('folder/of/YYYYMM.hdf')
    asim = p.get_asim('2010-11-25', '2010-11-26', 'NYA', features=True)
    magn = p.get_magn('2010-11-25', '2010-11-26', 'NAL')
    ceil = p.get_ceil('2010-11-25', '2010-11-26', 'NYA')
    both = combine_data_sets(asim, magn, ['X_nT'], pairs={'NYA': 'NAL'})
    print(len(both), len(ceil))
    convert_tame(['asim_data.7z', 'other_data.7z'], 'processed')
    # preprocessing, TAME's call included
    pp = PreProcessor(asim_path='raw/asim', magn_path='raw/magn', ceil_path='raw/ceil', data_path='processed')
    pp.proc_asim()
    pp.proc_magn(); pp.proc_ceil()
    # analysis
    da = DataAnalyzer('processed', torch_path, 'figures')
    da.fit_disturbance('2010-11-25', '2010-11-28', 'NYA')
    ds = AsimDataSet(['a.png'])
    print(len(ds))
    download_oath(sha256='0' * 64)


def camera_and_field_examples(torch_path: str) -> None:
    "The 0.3 additions as the README and the tutorials call them: a camera, a published classifier, similar frames, the engines."
    from tame.backbones import list_backbones
    from tame.engine import measure_engines
    from tame.published import classifier_path, list_classifiers
    from tame.similar import similar
    res = AsimClassifier(torch_path=torch_path).classify_images('dasc/', camera='PKR', file_pattern='poker_%Y%m%dT%H%M%S_{wavelength_nm}nm')
    print(res[['time', 'loc', 'wavelength_A']])
    tame_svm = AsimClassifier(classifier='tame2022-oath')
    print(tame_svm.predict(['a.png']), classifier_path('tame2022-oath', trust=True), list_classifiers(torch_path))
    pp = PreProcessor(asim_path='mydata', data_path='processed', camera=get_camera('PKR'), declination_deg=15.0)
    pp.proc_asim(batch_size=64)
    da = DataAnalyzer('processed', torch_path, 'figures', cameras=[get_camera('PKR')], pairs={'PKR': 'BOU'}, wavelength=5577)
    da.write_figures('2015-10-07', '2015-10-08')
    near = similar('processed', 'mydata/frame.FITS', n=10, station='PKR')
    same = Provider('processed').similar('mydata/frame.FITS', n=10)
    print(len(near), len(same), list_backbones(), measure_engines(batch_size=8, seconds=1.0, save=False))
    FeatureExtractor(EngineConfig(backbone='aurora_fm', engine='auto'))
